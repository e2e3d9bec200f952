"""Flags that several commands take, each defined here once: name, type, default and meaning.

A command passes what the flag means to it (``help``). Defining a flag that already exists
returns the existing one, so commands can be imported together (in-process CLI tests); the
first definition's help wins. ``config_flags`` uses the same definitions for train's
``--model_dir`` and ``--data_dir``.
"""

from absl import flags

from tf_cyclegan.common import conventions


def _define(define, name, default, help, flag_values, required=False):
    if name in flag_values:
        holder = flags.FlagHolder(flag_values, flag_values[name])
    else:
        holder = define(name, default, help, flag_values=flag_values)
    if required:
        flags.mark_flag_as_required(name, flag_values)
    return holder


def define_model_dir(help, required=True, flag_values=flags.FLAGS):
    """--model_dir: a run directory (``run_dir``). Returns the flag holder."""
    return _define(flags.DEFINE_string, "model_dir", None, help, flag_values, required)


def define_data_dir(
    help="TFDS data directory (TFDS's default when unset).", flag_values=flags.FLAGS
):
    """--data_dir: where TFDS keeps prepared datasets. Returns the flag holder."""
    return _define(flags.DEFINE_string, "data_dir", None, help, flag_values)


def define_dataset(help, required=False, flag_values=flags.FLAGS):
    """--dataset: 'synthetic', 'cycle_gan/<config>' or a folder. Returns the flag holder."""
    return _define(flags.DEFINE_string, "dataset", None, help, flag_values, required)


def define_checkpoint(
    help="A checkpoint prefix in the run, or 'best' for the generators of its evaluation "
    "with the best FID (best/best.json); default: the newest one that restores.",
    flag_values=flags.FLAGS,
):
    """--checkpoint: a checkpoint to read. Returns the flag holder."""
    return _define(flags.DEFINE_string, "checkpoint", None, help, flag_values)


def define_direction(help, flag_values=flags.FLAGS):
    """--direction: a2b or b2a (``conventions.DIRECTIONS``). Returns the flag holder."""

    def define(name, default, help, flag_values):
        return flags.DEFINE_enum(
            name, default, list(conventions.DIRECTIONS), help, flag_values=flag_values
        )

    return _define(define, "direction", "a2b", help, flag_values)


def define_overwrite(help, flag_values=flags.FLAGS):
    """--overwrite: replace outputs that exist; never on by default. Returns the flag holder."""
    return _define(flags.DEFINE_boolean, "overwrite", False, help, flag_values)


def define_inception_weights(help, flag_values=flags.FLAGS):
    """--inception_weights: the FID network's weights file (``evaluation.inception``)."""
    return _define(flags.DEFINE_string, "inception_weights", None, help, flag_values)
