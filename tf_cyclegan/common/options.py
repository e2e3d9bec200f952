"""What a config field carries besides its value: its flag's help, choices and name, and
whether it shapes the training trajectory (``config``'s fields; ``config_flags`` reads it)."""

import dataclasses


def option(default, help, *, choices=None, identity=True, flag=None, invert=False):
    """A config field and everything its command-line flag needs (``config_flags``).

    Args:
        default: the default value (also the flag's).
        help: the flag's help text.
        choices: the allowed values of an enumerated option: a tuple, or a function
            returning one for a registry that may grow (read when a config is checked).
        identity: whether the field shapes the training trajectory (checked on resume);
            False for where data is, logging and speed.
        flag: the flag's name when it is not the field's; False for no flag.
        invert: a boolean flag that sets the field to its negation (``--no_flip``).
    """
    metadata = {
        "help": help,
        "choices": choices,
        "identity": identity,
        "flag": flag,
        "invert": invert,
    }
    return dataclasses.field(default=default, metadata=metadata)


def free(default, help, **kwargs):
    """An option that may change when a run resumes."""
    return option(default, help, identity=False, **kwargs)


def choices_of(field):
    """The allowed values of ``field`` (a config dataclass field) now, or None."""
    choices = field.metadata.get("choices")
    return tuple(choices()) if callable(choices) else choices
