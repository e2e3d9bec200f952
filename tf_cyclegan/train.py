r"""Trains a CycleGAN, or CUT / FastCUT (--model=cut|fastcut).

  python -m tf_cyclegan.train --dataset=cycle_gan/horse2zebra
  python -m tf_cyclegan.train --flagfile=flags/smoke.cfg --model_dir=/tmp/smoke

Running the same command again resumes the run in --model_dir exactly where it stopped.

Documentation: docs/training.md
"""

from absl import flags

from tf_cyclegan.common import cli, config_flags, shared_flags
from tf_cyclegan.training import distribute, train_lib

# Every option of config.Config, with its default, help and choices (config.py).
config_flags.define_flags()
flags.adopt_module_key_flags(config_flags)  # Listed by --help as this binary's own.
flags.adopt_module_key_flags(shared_flags)


def main(argv):
    del argv  # cli.run refuses positional arguments.
    config = config_flags.config_from_flags()
    # The strategy comes first: MultiWorkerMirroredStrategy must precede any other TF work.
    strategy = distribute.make_strategy(config.train.strategy, config.train.num_cpu_devices)

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
