r"""Trains a CycleGAN.

  python -m tf_cyclegan.train --dataset=cycle_gan/horse2zebra
  python -m tf_cyclegan.train --flagfile=flags/smoke.cfg --model_dir=/tmp/smoke

Running the same command again resumes the run in --model_dir exactly where it stopped.
"""

from absl import flags

from tf_cyclegan import cli, distribute, layers, losses, models, schedules
from tf_cyclegan import config as config_lib

# Data.
_DATASET = flags.DEFINE_string(
    "dataset",
    "synthetic",
    "'synthetic' (built in, no download), 'cycle_gan/<config>', or a "
    "folder holding trainA/ and trainB/ (optionally testA/, testB/).",
)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory (TFDS default if unset).")
_PREPROCESS = flags.DEFINE_enum(
    "preprocess", "resize_and_crop",
    ["resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none"],
    "How training images are resized and cropped (the official modes).",
)  # fmt: skip
_CACHE = flags.DEFINE_boolean(
    "cache", False, "Keep decoded, resized images in memory (resize_and_crop only)."
)
_LOAD_SIZE = flags.DEFINE_integer("load_size", 286, "Images are resized to this square size...")
_CROP_SIZE = flags.DEFINE_integer("crop_size", 256, "...then randomly cropped to this size.")
_NO_FLIP = flags.DEFINE_boolean("no_flip", False, "Disable random horizontal flips.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 1, "Images per domain per step, per replica.")
_MAX_DATASET_SIZE = flags.DEFINE_integer(
    "max_dataset_size", None, "Use at most this many training images per domain."
)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 4, "Test images per domain in sample grids.")

# Networks.
_GENERATOR = flags.DEFINE_enum("generator", "resnet_9blocks", models.GENERATORS, "Generator.")
_DISCRIMINATOR = flags.DEFINE_enum(
    "discriminator", "basic", models.DISCRIMINATORS, "basic: 70x70 PatchGAN; n_layers: "
    "PatchGAN with --n_layers_d; pixel: 1x1 PixelGAN."
)  # fmt: skip
_N_LAYERS_D = flags.DEFINE_integer("n_layers_d", 3, "Layers of the n_layers PatchGAN.")
_NGF = flags.DEFINE_integer("ngf", 64, "Filters in the generators' first layer.")
_NDF = flags.DEFINE_integer("ndf", 64, "Filters in the discriminators' first layer.")
_NORM = flags.DEFINE_enum("norm", "instance", layers.NORM_TYPES, "Normalization layer.")
_INIT_TYPE = flags.DEFINE_enum("init_type", "normal", layers.INIT_TYPES, "Weight init.")
_INIT_GAIN = flags.DEFINE_float("init_gain", 0.02, "Std (normal) or gain (others) of init.")
_UPSAMPLE = flags.DEFINE_enum(
    "upsample", "transpose", models.UPSAMPLE_MODES,
    "Generator upsampling: transposed convolutions, or resize then convolve (no checkerboard).",
)  # fmt: skip
_USE_DROPOUT = flags.DEFINE_boolean("use_dropout", False, "Dropout in the generators.")

# Objective.
_GAN_MODE = flags.DEFINE_enum("gan_mode", "lsgan", losses.GAN_MODES, "Adversarial loss.")
_LAMBDA_A = flags.DEFINE_float("lambda_a", 10.0, "Weight of the cycle loss A -> B -> A.")
_LAMBDA_B = flags.DEFINE_float("lambda_b", 10.0, "Weight of the cycle loss B -> A -> B.")
_LAMBDA_IDENTITY = flags.DEFINE_float(
    "lambda_identity", 0.5, "Identity loss weight, as a fraction of lambda_a / lambda_b."
)
_LAMBDA_GP = flags.DEFINE_float("lambda_gp", 10.0, "Gradient-penalty weight for wgangp.")
_POOL_SIZE = flags.DEFINE_integer("pool_size", 50, "Fake-image history per domain; 0 disables.")

# Optimization.
_LR = flags.DEFINE_float("lr", 2e-4, "Initial Adam learning rate.")
_BETA1 = flags.DEFINE_float("beta1", 0.5, "Adam beta1.")
_LR_POLICY = flags.DEFINE_enum("lr_policy", "linear", schedules.LR_POLICIES, "LR schedule.")
_EPOCHS = flags.DEFINE_integer("epochs", 100, "Epochs at the initial learning rate.")
_EPOCHS_DECAY = flags.DEFINE_integer("epochs_decay", 100, "Epochs of linear decay to zero.")
_LR_DECAY_EPOCHS = flags.DEFINE_integer("lr_decay_epochs", 50, "Step policy: x0.1 this often.")

# The run.
_MODEL_DIR = flags.DEFINE_string(
    "model_dir", None, "Checkpoints, TensorBoard logs, samples and config.json go here "
    "(default runs/<dataset>). An existing run resumes."
)  # fmt: skip
_TRAIN_STEPS = flags.DEFINE_integer(
    "train_steps", None, "Stop after this many steps in all (default: epochs + epochs_decay)."
)
_SEED = flags.DEFINE_integer("seed", 0, "Seed of weights, data order, augmentation and pool.")
_CHECKPOINT_EVERY = flags.DEFINE_integer("checkpoint_every", 1000, "Steps between checkpoints.")
_MAX_TO_KEEP = flags.DEFINE_integer("max_to_keep", 3, "Checkpoints kept.")
_SUMMARY_EVERY = flags.DEFINE_integer("summary_every", 100, "Steps between scalar summaries.")
_SAMPLE_EVERY = flags.DEFINE_integer("sample_every", 1000, "Steps between sample grids.")
_LOG_EVERY = flags.DEFINE_integer("log_every", 10, "Steps between progress lines.")
_DETERMINISTIC = flags.DEFINE_boolean("deterministic", False, "Deterministic ops (slower).")
_JIT_COMPILE = flags.DEFINE_boolean("jit_compile", False, "Compile the train step with XLA.")
_CONV_GRADIENTS = flags.DEFINE_enum(
    "conv_gradients", "auto", ["auto", "stock", "fast"],
    "Gradients of stride-1 convolutions: 'auto' times stock and rewritten ones per shape on "
    "this machine (cached in ~/.cache/tf_cyclegan) and uses the faster; or force one.",
)  # fmt: skip
_MIXED_PRECISION = flags.DEFINE_enum(
    "mixed_precision", None, ["float16", "bfloat16"],
    "Compute in this dtype with float32 weights (float16 adds dynamic loss scaling).",
)  # fmt: skip

# Evaluation.
_EVAL_EVERY = flags.DEFINE_integer(
    "eval_every", None, "Steps between test-set evaluations in TensorBoard (also at the end)."
)
_INCEPTION_WEIGHTS = flags.DEFINE_string(
    "inception_weights", None, "InceptionV3 notop .h5: adds FID and KID to the evaluations."
)

# Distribution.
_STRATEGY = flags.DEFINE_enum(
    "strategy", "auto", distribute.STRATEGIES,
    "auto: MirroredStrategy over all GPUs (or --num_cpu_devices > 1), else the default. "
    "multi_worker reads TF_CONFIG. tpu is untested.",
)  # fmt: skip
_NUM_CPU_DEVICES = flags.DEFINE_integer(
    "num_cpu_devices", 1, "Split the CPU into this many logical devices (tests, demos)."
)


def config_from_flags():
    """Builds the frozen run config from the parsed flags."""
    dataset = _DATASET.value
    return config_lib.Config(
        model=config_lib.ModelConfig(
            generator=_GENERATOR.value, discriminator=_DISCRIMINATOR.value,
            n_layers_d=_N_LAYERS_D.value, ngf=_NGF.value, ndf=_NDF.value, norm=_NORM.value,
            init_type=_INIT_TYPE.value, init_gain=_INIT_GAIN.value, upsample=_UPSAMPLE.value,
            use_dropout=_USE_DROPOUT.value,
        ),
        loss=config_lib.LossConfig(
            gan_mode=_GAN_MODE.value, lambda_a=_LAMBDA_A.value, lambda_b=_LAMBDA_B.value,
            lambda_identity=_LAMBDA_IDENTITY.value, lambda_gp=_LAMBDA_GP.value,
            pool_size=_POOL_SIZE.value,
        ),
        optim=config_lib.OptimConfig(
            lr=_LR.value, beta1=_BETA1.value, lr_policy=_LR_POLICY.value, epochs=_EPOCHS.value,
            epochs_decay=_EPOCHS_DECAY.value, lr_decay_epochs=_LR_DECAY_EPOCHS.value,
        ),
        data=config_lib.DataConfig(
            dataset=dataset, data_dir=_DATA_DIR.value, preprocess=_PREPROCESS.value,
            cache=_CACHE.value, load_size=_LOAD_SIZE.value,
            crop_size=_CROP_SIZE.value, flip=not _NO_FLIP.value, batch_size=_BATCH_SIZE.value,
            max_dataset_size=_MAX_DATASET_SIZE.value, num_samples=_NUM_SAMPLES.value,
        ),
        train=config_lib.TrainConfig(
            model_dir=_MODEL_DIR.value or f"runs/{dataset.replace('/', '_')}",
            train_steps=_TRAIN_STEPS.value, seed=_SEED.value,
            checkpoint_every=_CHECKPOINT_EVERY.value, max_to_keep=_MAX_TO_KEEP.value,
            summary_every=_SUMMARY_EVERY.value, sample_every=_SAMPLE_EVERY.value,
            log_every=_LOG_EVERY.value, deterministic=_DETERMINISTIC.value,
            jit_compile=_JIT_COMPILE.value, conv_gradients=_CONV_GRADIENTS.value,
            mixed_precision=_MIXED_PRECISION.value,
            strategy=_STRATEGY.value, num_cpu_devices=_NUM_CPU_DEVICES.value,
            eval_every=_EVAL_EVERY.value, inception_weights=_INCEPTION_WEIGHTS.value,
        ),
    )  # fmt: skip


def main(argv):
    del argv  # cli.run refuses positional arguments.
    config = config_from_flags()
    # The strategy comes first: MultiWorkerMirroredStrategy must precede any other TF work.
    strategy = distribute.make_strategy(config.train.strategy, config.train.num_cpu_devices)
    from tf_cyclegan import train_lib

    result = train_lib.train(config, strategy)
    if not distribute.is_chief(strategy):
        return
    model_dir = config.train.model_dir
    print(
        f"\nDone at step {result['step']}. In {model_dir}:\n"
        f"  checkpoints   {model_dir}/ckpt-*\n"
        f"  TensorBoard   tensorboard --logdir {model_dir}\n"
        f"  samples       {model_dir}/samples/*.png\n"
        f"  config        {model_dir}/config.json",
        flush=True,
    )


if __name__ == "__main__":
    cli.run(main)
