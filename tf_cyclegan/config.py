"""Frozen run configuration. Binaries build it from flags; libraries only read it.

The run writes it to ``model_dir/config.json``; export, translate and resume read it back,
so no model option is ever typed twice. Fields marked ``identity`` shape the training
trajectory: a run resumes only with the same values (``identity_changes``).
"""

import dataclasses
import json
import math
import os

import tensorflow as tf

from tf_cyclegan import errors, run_dir

CONFIG_FILE = run_dir.CONFIG_FILE
FLOAT32_MAX = 3.4028234e38


def _free(default):
    """A field that may change when a run resumes (where data is, logging, speed)."""
    return dataclasses.field(default=default, metadata={"identity": False})


def _identity(default):
    """A field of the run's identity, in a part whose fields are mostly free."""
    return dataclasses.field(default=default, metadata={"identity": True})


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The four networks."""

    generator: str = "resnet_9blocks"
    discriminator: str = "basic"
    n_layers_d: int = 3
    ngf: int = 64
    ndf: int = 64
    norm: str = "instance"
    init_type: str = "normal"
    init_gain: float = 0.02
    upsample: str = "transpose"
    use_dropout: bool = False


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """The objective: adversarial, cycle and identity terms."""

    gan_mode: str = "lsgan"
    lambda_a: float = 10.0
    lambda_b: float = 10.0
    lambda_identity: float = 0.5
    lambda_gp: float = 10.0
    pool_size: int = 50


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """Adam and the learning-rate schedule (lengths in epochs)."""

    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lr_policy: str = "linear"
    epochs: int = 100
    epochs_decay: int = 100
    lr_decay_epochs: int = 50


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where images come from and how they are prepared."""

    dataset: str = "synthetic"
    data_dir: str | None = _free(None)
    preprocess: str = "resize_and_crop"
    load_size: int = 286
    crop_size: int = 256
    flip: bool = True
    batch_size: int = 1
    max_dataset_size: int | None = None
    num_samples: int = _free(4)
    cache: bool = _free(False)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The run: where it writes, how long, how often.

    ``num_replicas`` is not an option: training records how many replicas the strategy
    had, because the global batch and each replica's image pool depend on it.
    """

    model_dir: str = _free("runs/default")
    train_steps: int | None = _free(None)
    seed: int = _identity(0)
    checkpoint_every: int = _free(1000)
    max_to_keep: int = _free(3)
    summary_every: int = _free(100)
    sample_every: int = _free(1000)
    log_every: int = _free(10)
    deterministic: bool = _free(False)
    jit_compile: bool = _free(False)
    conv_gradients: str = _free("auto")
    mixed_precision: str | None = _identity(None)
    strategy: str = _free("auto")
    num_cpu_devices: int = _free(1)
    eval_every: int | None = _free(None)
    inception_weights: str | None = _free(None)
    num_replicas: int | None = _identity(None)


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything a run needs."""

    model: ModelConfig = ModelConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values):
        """Builds a Config from nested dicts; unknown keys are an error, missing ones default."""
        parts = {}
        for field in dataclasses.fields(cls):
            part_cls = field.type
            given = dict(values.get(field.name, {}))
            known = {f.name for f in dataclasses.fields(part_cls)}
            unknown = sorted(set(given) - known)
            if unknown:
                raise errors.ConfigError(
                    f"unknown {field.name} options {unknown}; expected {sorted(known)}"
                )
            parts[field.name] = part_cls(**given)
        return cls(**parts)


def identity_changes(old, new):
    """{"part.field": (old value, new value)} for the identity fields that differ.

    A field the old run did not record (None, from an older version) is not compared.
    """
    changed = {}
    for part in dataclasses.fields(Config):
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


def save(config, model_dir):
    """Writes ``config`` to ``model_dir/config.json`` atomically."""
    tf.io.gfile.makedirs(model_dir)
    run_dir.write_atomically(os.path.join(model_dir, CONFIG_FILE), config.to_json() + "\n")


def load(model_dir):
    """Reads ``model_dir/config.json``; a clear error when it is missing or damaged."""
    if not tf.io.gfile.isdir(model_dir):
        raise errors.MissingError(f"{model_dir} does not exist (train with --model_dir first)")
    path = os.path.join(model_dir, CONFIG_FILE)
    if not tf.io.gfile.exists(path):
        raise errors.MissingError(
            f"{path} not found: {model_dir!r} is not a tf_cyclegan run directory "
            "(train with --model_dir=... first)"
        )
    try:
        with tf.io.gfile.GFile(path) as f:
            return Config.from_dict(json.load(f))
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as e:
        raise errors.RunDirError(
            f"{path} is damaged ({type(e).__name__}: {e}); restore it from a backup, or copy "
            "config.json from the export of this run"
        ) from None


def _check_ranges(config):
    """Rejects values that cannot train: non-positive rates, betas outside [0, 1), ..."""
    o, loss, m = config.optim, config.loss, config.model
    floats = {"lr": o.lr, "beta1": o.beta1, "beta2": o.beta2, "lambda_a": loss.lambda_a,
              "lambda_b": loss.lambda_b, "lambda_identity": loss.lambda_identity,
              "lambda_gp": loss.lambda_gp, "init_gain": m.init_gain}  # fmt: skip
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


def validate(config):
    """Raises ConfigError (a ValueError) naming the first bad option and what to use."""
    from tf_cyclegan import data, layers, losses, models, schedules  # Heavy; when validating.

    _check_ranges(config)

    m, d, t = config.model, config.data, config.train
    choices = [
        ("generator", m.generator, models.GENERATORS),
        ("discriminator", m.discriminator, models.DISCRIMINATORS),
        ("norm", m.norm, layers.NORM_TYPES),
        ("init_type", m.init_type, layers.INIT_TYPES),
        ("upsample", m.upsample, models.UPSAMPLE_MODES),
        ("gan_mode", config.loss.gan_mode, losses.GAN_MODES),
        ("lr_policy", config.optim.lr_policy, schedules.LR_POLICIES),
        ("preprocess", d.preprocess, data.PREPROCESS_MODES),
    ]
    for flag, value, valid in choices:
        if value not in valid:
            raise errors.ConfigError(f"unknown {flag} {value!r}; expected one of {valid}")
    positive = {"ngf": m.ngf, "ndf": m.ndf, "n_layers_d": m.n_layers_d,
                "batch_size": d.batch_size, "crop_size": d.crop_size}  # fmt: skip
    for flag, value in positive.items():
        if value < 1:
            raise errors.ConfigError(f"--{flag}={value} must be at least 1")
    multiple = models.size_multiple(m.generator)
    if d.crop_size % multiple or d.crop_size < max(multiple, 8):
        raise errors.ConfigError(
            f"--crop_size={d.crop_size} does not fit --generator={m.generator}: use a multiple "
            f"of {multiple} that is at least {max(multiple, 8)}"
        )
    if d.preprocess in data.VARIABLE_SIZE_MODES:
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
    if t.train_steps is not None and t.train_steps < 0:
        raise errors.ConfigError(f"--train_steps={t.train_steps} must be >= 0")
    for flag in ("checkpoint_every", "summary_every", "sample_every", "log_every", "max_to_keep"):
        if getattr(t, flag) < 1:
            raise errors.ConfigError(f"--{flag}={getattr(t, flag)} must be at least 1")
