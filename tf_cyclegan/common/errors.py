"""Errors that a user's input causes, as opposed to bugs.

Binaries print a ``UserError`` as one ``error: ...`` line and exit with status 2; anything
else keeps its traceback, because it is a bug. Each class also derives from the builtin
exception that callers of the library would expect (``ValueError``, ``FileNotFoundError``).
"""


class UserError(Exception):
    """Bad input, or a state of the user's files that the command must not touch."""


class ConfigError(UserError, ValueError):
    """An option value that cannot work, with what to use instead."""


class MissingError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class RunDirError(UserError, RuntimeError):
    """The run directory is in use, belongs to another run, or holds no usable state."""


class DivergedError(UserError, RuntimeError):
    """Training produced non-finite losses or weights; the last finite checkpoint is kept."""


class DataUnavailableError(UserError, RuntimeError):
    """The dataset is neither prepared locally nor downloadable from here."""


class ClusterError(UserError, RuntimeError):
    """A task of a multi-worker cluster stopped; the message says how to resume."""
