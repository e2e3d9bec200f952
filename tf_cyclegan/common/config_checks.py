"""Whether a config can train: values in range, choices known, sizes that fit the networks.

Each refusal is a ``ConfigError`` naming the flag, the value and what to use instead.
"""

import dataclasses
import math
import os

import tensorflow as tf

from tf_cyclegan.common import architectures, errors, options, precision, run_dir
from tf_cyclegan.common import config as config_lib

FLOAT32_MAX = 3.4028234e38  # The largest float32: flags are float64, weights float32.


def _check_ranges(config):
    """Rejects values that cannot train: non-positive rates, betas outside [0, 1), ..."""
    o, loss, m = config.optim, config.loss, config.model
    floats = {
        "lr": o.lr,
        "beta1": o.beta1,
        "beta2": o.beta2,
        "lambda_a": loss.lambda_a,
        "lambda_b": loss.lambda_b,
        "lambda_identity": loss.lambda_identity,
        "lambda_gp": loss.lambda_gp,
        "init_gain": m.init_gain,
    }
    for flag, value in floats.items():
        if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
            raise errors.ConfigError(f"--{flag}={value} is not a finite float32 number")
    if o.lr <= 0:
        raise errors.ConfigError(f"--lr={o.lr} must be positive (the paper uses 0.0002)")
    for flag, value in (("beta1", o.beta1), ("beta2", o.beta2)):
        if not 0 <= value < 1:
            raise errors.ConfigError(f"--{flag}={value} must be in [0, 1) (Adam's decay rate)")
    for flag in ("lambda_a", "lambda_b", "lambda_identity", "lambda_gp"):
        if floats[flag] < 0:
            raise errors.ConfigError(f"--{flag}={floats[flag]} must be >= 0")
    if m.init_gain <= 0:
        raise errors.ConfigError(f"--init_gain={m.init_gain} must be positive (default 0.02)")
    if o.epochs < 0 or o.epochs_decay < 0 or o.epochs + o.epochs_decay < 1:
        raise errors.ConfigError(
            f"--epochs={o.epochs} --epochs_decay={o.epochs_decay}: both must be >= 0 and "
            "their sum at least 1 (the learning-rate schedule spans epochs + epochs_decay)"
        )
    if o.lr_decay_epochs < 1:
        raise errors.ConfigError(f"--lr_decay_epochs={o.lr_decay_epochs} must be at least 1")


def _check_sub_mobile(model):
    """--sub_mobile_config goes with sub_mobile_resnet_9blocks, and only with it."""
    family = architectures.get(model.generator).family
    if family == "sub_mobile":
        if not model.sub_mobile_config:
            raise errors.ConfigError(
                f"--generator={model.generator} takes its widths from --sub_mobile_config "
                "(GAN Compression's config string, e.g. 16_16_32_16_32_32_16_16)"
            )
        architectures.SubMobileWidths.parse(model.sub_mobile_config)
    elif model.sub_mobile_config:
        raise errors.ConfigError(
            f"--sub_mobile_config applies to sub_mobile_resnet_9blocks, not --generator="
            f"{model.generator}"
        )


def validate(config):
    """Raises ConfigError (a ValueError) naming the first bad option and what to use."""
    _check_ranges(config)

    m, d, t = config.model, config.data, config.train
    for part in dataclasses.fields(config):
        for field in dataclasses.fields(part.type):
            valid = options.choices_of(field)
            value = getattr(getattr(config, part.name), field.name)
            if valid and value not in valid:
                raise errors.ConfigError(f"unknown {field.name} {value!r}; expected one of {valid}")
    positive = {
        "ngf": m.ngf,
        "ndf": m.ndf,
        "n_layers_d": m.n_layers_d,
        "batch_size": d.batch_size,
        "crop_size": d.crop_size,
    }
    for flag in ("input_nc", "output_nc"):
        if getattr(m, flag) not in (1, 3):
            raise errors.ConfigError(
                f"--{flag}={getattr(m, flag)}: images have 3 channels (RGB) or 1 (grayscale)"
            )
    if m.input_nc != m.output_nc and config.loss.lambda_identity > 0:
        raise errors.ConfigError(
            f"--input_nc={m.input_nc} --output_nc={m.output_nc}: the identity loss feeds each "
            "generator images of its target domain, which needs equal channels; pass "
            "--lambda_identity=0"
        )
    for flag, value in positive.items():
        if value < 1:
            raise errors.ConfigError(f"--{flag}={value} must be at least 1")
    architectures.check_size(m.generator, d.crop_size, "--crop_size")
    _check_sub_mobile(m)
    if d.preprocess in config_lib.VARIABLE_SIZE_MODES:
        if d.batch_size != 1 or config.loss.pool_size != 0:
            raise errors.ConfigError(
                f"--preprocess={d.preprocess} gives images of varying size: use --batch_size=1 "
                "and --pool_size=0 (the in-graph pool holds fixed-size images), or a cropping "
                "mode such as resize_and_crop"
            )
    if d.cache and d.preprocess != "resize_and_crop":
        raise errors.ConfigError(
            f"--cache works with --preprocess=resize_and_crop, not {d.preprocess}"
        )
    if d.load_size < d.crop_size:
        raise errors.ConfigError(f"--load_size={d.load_size} must be >= --crop_size={d.crop_size}")
    if config.loss.pool_size < 0:
        raise errors.ConfigError(
            f"--pool_size={config.loss.pool_size} must be >= 0 (0 disables it)"
        )
    if t.init_from and os.path.realpath(t.init_from) == os.path.realpath(t.model_dir):
        raise errors.ConfigError(
            f"--init_from={t.init_from} is --model_dir itself: a run resumes from its own "
            "checkpoints; start a new run in another --model_dir"
        )
    if t.train_steps is not None and t.train_steps < 0:
        raise errors.ConfigError(f"--train_steps={t.train_steps} must be >= 0")
    for flag in ("checkpoint_every", "summary_every", "sample_every", "log_every", "max_to_keep"):
        if getattr(t, flag) < 1:
            raise errors.ConfigError(f"--{flag}={getattr(t, flag)} must be at least 1")
    if t.eval_images is not None and t.eval_images < 2:
        raise errors.ConfigError(
            f"--eval_images={t.eval_images} must be at least 2 (KID and FID need two images)"
        )


def identity_changes(old, new):
    """{"part.field": (old value, new value)} for the identity fields that differ.

    A field the old run did not record (None, from an older version) is not compared.
    """
    changed = {}
    for part in dataclasses.fields(config_lib.Config):
        old_part, new_part = getattr(old, part.name), getattr(new, part.name)
        for field in dataclasses.fields(new_part):
            if not field.metadata.get("identity", True):
                continue
            before, after = getattr(old_part, field.name), getattr(new_part, field.name)
            if field.name == "num_replicas" and before is None:
                continue
            if before != after:
                changed[f"{part.name}.{field.name}"] = (before, after)
    return changed


def recorded_options(model_dir):
    """{"part.field"} that ``model_dir/config.json`` records (``load`` defaults the rest)."""
    values = config_lib.read_json(model_dir)
    return {f"{part}.{name}" for part, fields in values.items() for name in fields}


def check_resumable(config, model_dir):
    """Refuses to continue a run whose trajectory-shaping options were different."""
    if not tf.io.gfile.exists(os.path.join(model_dir, run_dir.CONFIG_FILE)):
        if run_dir.checkpoints(model_dir):
            raise errors.RunDirError(
                f"{model_dir} holds checkpoints but no {run_dir.CONFIG_FILE}; restore that "
                "file, or use a new --model_dir"
            )
        return
    changed = identity_changes(config_lib.load(model_dir), config)
    recorded = recorded_options(model_dir)
    lacking = [k for k in changed if k not in recorded]
    if lacking:  # Loading filled in the default, which the user never chose.
        path = os.path.join(model_dir, run_dir.CONFIG_FILE)
        raise errors.RunDirError(
            f"{path} lacks {', '.join(lacking)}, so the run's value cannot be compared with "
            "this command's; restore config.json from a backup (or the run's export), or use "
            "a new --model_dir"
        )
    if changed:
        listed = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
        raise errors.RunDirError(
            f"{model_dir} holds a run with other options ({listed}); resume with the run's "
            "original options, or use a new --model_dir"
        )


def resolve_precision(config, model_dir, hardware=None):
    """``config`` with ``--mixed_precision=auto`` made concrete, and why.

    A run that exists keeps the precision it recorded (so it resumes alike on any machine);
    a new one gets what ``precision.resolve`` picks for ``hardware`` (this machine's).

    Returns:
        (config, reason): reason is "" for a precision the user chose.
    """
    choice = config.train.mixed_precision
    if choice != precision.AUTO:
        return config, ""
    if tf.io.gfile.exists(os.path.join(model_dir, run_dir.CONFIG_FILE)):
        resolved = config_lib.load(model_dir).train.mixed_precision
        reason = "auto: the precision this run started in"
    else:
        resolved, reason = precision.resolve(choice, hardware)
    train = dataclasses.replace(config.train, mixed_precision=resolved)
    return dataclasses.replace(config, train=train), reason
