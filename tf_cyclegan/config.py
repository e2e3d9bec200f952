"""Frozen run configuration. Binaries build it from flags; libraries only read it.

The run writes it to ``model_dir/config.json``; export, translate and resume read it back,
so no model option is ever typed twice.
"""

import dataclasses
import json
import os

import tensorflow as tf

CONFIG_FILE = "config.json"


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
    data_dir: str | None = None
    preprocess: str = "resize_and_crop"
    load_size: int = 286
    crop_size: int = 256
    flip: bool = True
    batch_size: int = 1
    max_dataset_size: int | None = None
    num_samples: int = 4
    cache: bool = False


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The run: where it writes, how long, how often."""

    model_dir: str = "runs/default"
    train_steps: int | None = None
    seed: int = 0
    checkpoint_every: int = 1000
    max_to_keep: int = 3
    summary_every: int = 100
    sample_every: int = 1000
    log_every: int = 10
    deterministic: bool = False
    jit_compile: bool = False
    mixed_precision: str | None = None
    strategy: str = "auto"
    num_cpu_devices: int = 1
    eval_every: int | None = None
    inception_weights: str | None = None


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
                raise ValueError(
                    f"unknown {field.name} options {unknown}; expected {sorted(known)}"
                )
            parts[field.name] = part_cls(**given)
        return cls(**parts)


def save(config, model_dir):
    """Writes ``config`` to ``model_dir/config.json`` atomically."""
    tf.io.gfile.makedirs(model_dir)
    path = os.path.join(model_dir, CONFIG_FILE)
    tmp = path + ".tmp"
    with tf.io.gfile.GFile(tmp, "w") as f:
        f.write(config.to_json() + "\n")
    tf.io.gfile.rename(tmp, path, overwrite=True)


def load(model_dir):
    """Reads ``model_dir/config.json``; a clear error when the run has none."""
    path = os.path.join(model_dir, CONFIG_FILE)
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(
            f"{path} not found: {model_dir!r} is not a tf_cyclegan run directory "
            "(train with --model_dir=... first)"
        )
    with tf.io.gfile.GFile(path) as f:
        return Config.from_dict(json.load(f))


def validate(config):
    """Raises ValueError naming the first bad option and what to use instead."""
    from tf_cyclegan import data, layers, losses, models, schedules  # Heavy; when validating.

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
            raise ValueError(f"unknown {flag} {value!r}; expected one of {valid}")
    positive = {"ngf": m.ngf, "ndf": m.ndf, "n_layers_d": m.n_layers_d,
                "batch_size": d.batch_size, "crop_size": d.crop_size}  # fmt: skip
    for flag, value in positive.items():
        if value < 1:
            raise ValueError(f"--{flag}={value} must be at least 1")
    multiple = models.size_multiple(m.generator)
    if d.crop_size % multiple or d.crop_size < max(multiple, 8):
        raise ValueError(
            f"--crop_size={d.crop_size} does not fit --generator={m.generator}: use a multiple "
            f"of {multiple} that is at least {max(multiple, 8)}"
        )
    if d.preprocess in data.VARIABLE_SIZE_MODES:
        if d.batch_size != 1 or config.loss.pool_size != 0:
            raise ValueError(
                f"--preprocess={d.preprocess} gives images of varying size: use --batch_size=1 "
                "and --pool_size=0 (the in-graph pool holds fixed-size images), or a cropping "
                "mode such as resize_and_crop"
            )
    if d.cache and d.preprocess != "resize_and_crop":
        raise ValueError(f"--cache works with --preprocess=resize_and_crop, not {d.preprocess}")
    if d.load_size < d.crop_size:
        raise ValueError(f"--load_size={d.load_size} must be >= --crop_size={d.crop_size}")
    if config.loss.pool_size < 0:
        raise ValueError(f"--pool_size={config.loss.pool_size} must be >= 0 (0 disables it)")
    if t.train_steps is not None and t.train_steps < 0:
        raise ValueError(f"--train_steps={t.train_steps} must be >= 0")
    for flag in ("checkpoint_every", "summary_every", "sample_every", "log_every", "max_to_keep"):
        if getattr(t, flag) < 1:
            raise ValueError(f"--{flag}={getattr(t, flag)} must be at least 1")
