"""What every binary shares: one-line user errors, no tracebacks for expected failures, and
a console free of what the user cannot act on."""

import errno
import logging as std_logging
import sys

import tensorflow_datasets as tfds
from absl import app, flags, logging

from tf_cyclegan.common import errors, interrupts

# Exit status of an expected user error (absl uses 1 for flag errors, Python 1 for bugs).
USER_ERROR_STATUS = 2
# The shell's statuses for a process ended by SIGINT (Ctrl-C) and SIGTERM: 128 + the signal.
INTERRUPTED_STATUS = 130
TERMINATED_STATUS = 143


def _fail(message):
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(USER_ERROR_STATUS)


# Warnings nobody can act on, from TFDS: preparing a dataset for the first time, and naming
# the configuration a folder dataset gets (on every run that reads one).
_UNACTIONABLE = ("Variant folder", "Using custom data configuration")


class _Unactionable(std_logging.Filter):
    def filter(self, record):
        return not str(record.msg).startswith(_UNACTIONABLE)


def _quiet_console():
    """WARNING and above from Python's logs (TensorFlow, TFDS, ours), and no TFDS progress
    bars, unless ``--verbosity`` is given (``--verbosity=0`` shows INFO again). TensorFlow's
    C++ INFO lines are set aside in ``tf_cyclegan/__init__.py``, before TensorFlow loads."""
    if flags.FLAGS["verbosity"].present:
        return
    logging.set_verbosity(logging.WARNING)
    std_logging.getLogger("absl").addFilter(_Unactionable())
    tfds.disable_progress_bar()


def run(main, positional=None):
    """``app.run(main)``, printing user errors as ``error: ...`` with exit status 2.

    Args:
        main: callable(argv).
        positional: the positional arguments the command takes, as its usage names them
            ("DIR1 DIR2"): exactly that many are required. None: none are accepted.
    """

    def guarded(argv):
        wanted = positional.split() if positional else []
        if not wanted and len(argv) > 1:
            _fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
        if wanted and len(argv) - 1 != len(wanted):
            _fail(f"expected {positional}, got {len(argv) - 1} argument(s) {argv[1:]}")
        _quiet_console()
        interrupts.raise_on_sigterm()
        try:
            return main(argv)
        except errors.UserError as e:
            _fail(e)
        except interrupts.Terminated:
            print("terminated", file=sys.stderr, flush=True)
            interrupts.exit_process(TERMINATED_STATUS)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr, flush=True)
            interrupts.exit_process(INTERRUPTED_STATUS)
        except Exception as e:
            # Python raises OSError(ENOSPC); TensorFlow's writers raise their own OpError.
            full = getattr(e, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
            if full or "No space left on device" in str(e):
                _fail(f"the disk is full ({e}); free some space and run the same command again")
            raise

    app.run(guarded, flags_parser=_parse_flags)


def _parse_flags(argv):
    """absl's parsing, with its errors as every other user error: one line, status 2."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        message = " ".join(str(e).split())
        _fail(f"{message}; --helpshort lists the flags")
