r"""Imports official PyTorch CycleGAN generators (.pth) into a run directory; no PyTorch needed.

  python -m tf_cyclegan.import_torch --checkpoint=horse2zebra.pth --direction=a2b \
      --model_dir=runs/horse2zebra_pretrained
  python -m tf_cyclegan.export --model_dir=runs/horse2zebra_pretrained --export_dir=exported/h2z

One file gives one direction (the published models hold one generator each); pass
--checkpoint_a2b and --checkpoint_b2a for both. The architecture (the official resnet_9blocks,
resnet_6blocks, unet_128, unet_256, any ngf, dropout; or GAN Compression's compressed
sub_mobile_resnet_9blocks with any config string) is read from the keys and shapes;
--generator makes it a check. Files are parsed without running any code they contain.

Documentation: docs/deploying.md
"""

from absl import flags

from tf_cyclegan.common import architectures, cli, errors, shared_flags
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.pretrained import import_torch_lib

_CHECKPOINT = shared_flags.define_checkpoint(
    "An official (or GAN Compression) generator's .pth (e.g. latest_net_G.pth), translating "
    "--direction."
)
_DIRECTION = shared_flags.define_direction("What --checkpoint translates: A to B, or B to A.")
_CHECKPOINT_A2B = flags.DEFINE_string("checkpoint_a2b", None, "The A -> B generator's .pth.")
_CHECKPOINT_B2A = flags.DEFINE_string("checkpoint_b2a", None, "The B -> A generator's .pth.")
_MODEL_DIR = shared_flags.define_model_dir("The run directory to create (must not exist).")
# Checked against the registry when the import runs (import_torch_lib).
_GENERATOR = flags.DEFINE_string(
    "generator",
    None,
    f"Check the files hold this architecture: {', '.join(architectures.teacher_names())}.",
)
_USE_DROPOUT = flags.DEFINE_boolean(
    "use_dropout", False, "A U-Net trained with dropout (its keys cannot tell)."
)
_DATASET = shared_flags.define_dataset(
    "The run's dataset, for evaluate (default: the one the file names)."
)
_DATA_DIR = shared_flags.define_data_dir()
_CROP_SIZE = flags.DEFINE_integer(
    "crop_size", config_lib.DataConfig.crop_size, "The run's image size (official: 256)."
)
flags.adopt_module_key_flags(shared_flags)  # --help lists the shared flags too.


def main(argv):
    del argv  # cli.run refuses positional arguments.

    checkpoints = {}
    if _CHECKPOINT.value:
        checkpoints[_DIRECTION.value] = _CHECKPOINT.value
    for direction, holder in (("a2b", _CHECKPOINT_A2B), ("b2a", _CHECKPOINT_B2A)):
        if holder.value:
            if direction in checkpoints:
                raise errors.ConfigError(
                    f"two files for {direction}: pass --checkpoint_{direction} or --checkpoint"
                )
            checkpoints[direction] = holder.value
    result = import_torch_lib.import_checkpoints(
        import_torch_lib.ImportConfig(
            model_dir=_MODEL_DIR.value,
            checkpoints=checkpoints,
            generator=_GENERATOR.value,
            use_dropout=_USE_DROPOUT.value,
            dataset=_DATASET.value,
            data_dir=_DATA_DIR.value,
            crop_size=_CROP_SIZE.value,
        )
    )
    model = result["config"].model
    for direction, source in result["directions"].items():
        print(f"{direction}: {source['file']} (sha256 {source['sha256'][:12]})")
    print(
        f"Wrote {_MODEL_DIR.value}: {model.generator}, "
        f"{model.sub_mobile_config or f'ngf {model.ngf}'}, "
        f"dataset {result['config'].data.dataset}.\n"
        f"Export with: python -m tf_cyclegan.export --model_dir={_MODEL_DIR.value} "
        "--export_dir=<folder>"
    )


if __name__ == "__main__":
    cli.run(main)
