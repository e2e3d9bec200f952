"""Command-line flags generated from the config dataclasses: one definition per option.

Each field of ``config.Config``'s parts becomes a flag of the same name (or the one its
metadata names), with the field's default, help and choices; ``config_from_flags`` builds
the frozen config back. Adding an option is one field in ``config.py`` and its use.
"""

import dataclasses
import re
import types

from absl import flags

from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import options, shared_flags


def fields(parts=config_lib.TRAIN_PARTS):
    """[(part name, dataclasses.Field)] for every option of ``parts`` that has a flag."""
    return [
        (part.name, field)
        for part in dataclasses.fields(config_lib.Config)
        if part.name in parts
        for field in dataclasses.fields(part.type)
        if field.metadata.get("flag") is not False
    ]


def flag_name(field):
    return field.metadata.get("flag") or field.name


def _base_type(field):
    """int, float, str or bool: the field's type without ``| None``."""
    if isinstance(field.type, types.UnionType):
        return next(t for t in field.type.__args__ if t is not type(None))
    return field.type


def define_flags(parts=config_lib.TRAIN_PARTS, flag_values=flags.FLAGS):
    """Defines one flag per option of ``parts`` (names of ``config.Config``'s parts) on
    ``flag_values``. Call once, at a binary's import."""
    for _, field in fields(parts):
        name, meta, default = flag_name(field), field.metadata, field.default
        kind = _base_type(field)
        if name == "model_dir":
            shared_flags.define_model_dir(meta["help"], required=False, flag_values=flag_values)
        elif name == "data_dir":
            shared_flags.define_data_dir(meta["help"], flag_values=flag_values)
        elif name == "dataset":
            shared_flags.define_dataset(meta["help"], flag_values=flag_values)
            flag_values.set_default("dataset", default)
        elif meta.get("invert"):
            flags.DEFINE_boolean(name, not default, meta["help"], flag_values=flag_values)
        elif callable(meta.get("choices")):
            # A registry that may grow after this binary's import: checked with the config
            # (config_checks.validate); the help lists what is registered now.
            known = ", ".join(options.choices_of(field))
            help_ = f"{meta['help']} One of: {known}."
            flags.DEFINE_string(name, default, help_, flag_values=flag_values)
        elif meta.get("choices"):
            choices = [c for c in meta["choices"] if c is not None]
            flags.DEFINE_enum(name, default, choices, meta["help"], flag_values=flag_values)
        elif kind is bool:
            flags.DEFINE_boolean(name, default, meta["help"], flag_values=flag_values)
        elif kind is int:
            flags.DEFINE_integer(name, default, meta["help"], flag_values=flag_values)
        elif kind is float:
            flags.DEFINE_float(name, default, meta["help"], flag_values=flag_values)
        else:
            flags.DEFINE_string(name, default, meta["help"], flag_values=flag_values)
    # The run directory's default depends on the dataset: unset means runs/<dataset>.
    flag_values.set_default("model_dir", None)


def _take_source_model(parts, source_dir, flag_values):
    """--init_from: the model options the command line does not give are the source run's
    (one domain's generator of an imported run is enough: this run trains both)."""
    source = config_lib.load(source_dir).model
    for field in dataclasses.fields(config_lib.ModelConfig):
        meta = field.metadata
        if meta.get("flag") is False or flag_values[flag_name(field)].present:
            continue
        parts["model"][field.name] = getattr(source, field.name)


def _take_family_defaults(parts, flag_values):
    """--model=cut|fastcut: the official code's defaults for the options not given."""
    family = parts["model"]["family"]
    by_name = {f"{part}.{field.name}": field for part, field in fields(parts)}
    for key, value in config_lib.FAMILY_DEFAULTS[family].items():
        if not flag_values[flag_name(by_name[key])].present:
            part, name = key.split(".")
            parts[part][name] = value


def config_from_flags(parts=config_lib.TRAIN_PARTS, flag_values=flags.FLAGS):
    """Builds the frozen ``config.Config`` from parsed flags of ``parts``; the other parts
    take their defaults."""
    parts = {name: {} for name in parts}
    for part, field in fields(parts):
        value = flag_values[flag_name(field)].value
        parts.setdefault(part, {})[field.name] = (
            not value if field.metadata.get("invert") else value
        )
    train = parts["train"]
    if "model" in parts and "loss" in parts:
        _take_family_defaults(parts, flag_values)
    if train.get("init_from") and "model" in parts:
        _take_source_model(parts, train["init_from"], flag_values)
    if train.get("model_dir", "") is None:
        # runs/cycle_gan_horse2zebra, runs/tfds_mnist_0_1: one safe path component.
        train["model_dir"] = "runs/" + re.sub(r"[^\w.-]+", "_", parts["data"]["dataset"])
    return config_lib.Config(
        **{
            part.name: part.type(**parts.get(part.name, {}))
            for part in dataclasses.fields(config_lib.Config)
        }
    )
