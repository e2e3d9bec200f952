r"""Distils a trained or imported generator into a phone-size student.

  python -m tf_cyclegan.distill --teacher=runs/horse2zebra --model_dir=runs/horse2zebra_mobile
  python -m tf_cyclegan.export --model_dir=runs/horse2zebra_mobile --export_dir=exported/h2z_mobile

The data and schedule options not given here are the teacher's; the students' sizes are in
``python -m tf_cyclegan.flops``. Running the same command again resumes exactly, as ``train``.

Documentation: docs/deploying.md
"""

from absl import flags

from tf_cyclegan.common import architectures, cli, config_flags, shared_flags
from tf_cyclegan.common.config import DISTILL_PARTS
from tf_cyclegan.distillation import distill_lib
from tf_cyclegan.training import distribute

# The options of config.Config's schedule, data, run and distillation parts (config.py).
config_flags.define_flags(parts=DISTILL_PARTS)
flags.adopt_module_key_flags(config_flags)
flags.adopt_module_key_flags(shared_flags)
# Checked against the registry when distillation starts (distill_lib).
_STUDENT = flags.DEFINE_string(
    "student",
    "mobile_m",
    f"The student's size: {', '.join(architectures.student_names())} (flops.py lists them).",
)
_DIRECTIONS = flags.DEFINE_list(
    "directions", None, "Directions to distil, e.g. a2b (default: all the teacher holds)."
)
flags.mark_flags_as_required(["teacher", "model_dir"])


def main(argv):
    del argv  # cli.run refuses positional arguments.

    config = config_flags.config_from_flags(parts=DISTILL_PARTS)
    # The strategy comes first: MultiWorkerMirroredStrategy must precede any other TF work.
    strategy = distribute.make_strategy(config.train.strategy, config.train.num_cpu_devices)
    given = {name for name in flags.FLAGS if flags.FLAGS[name].present}
    config = distill_lib.from_teacher(config, _STUDENT.value, _DIRECTIONS.value, given)
    result = distill_lib.distill(config, strategy)
    if distribute.is_chief(strategy):
        model_dir = config.train.model_dir
        print(
            f"\nDone at step {result['step']}. Export the students with:\n"
            f"  python -m tf_cyclegan.export --model_dir={model_dir} --export_dir=...",
            flush=True,
        )


if __name__ == "__main__":
    cli.run(main)
