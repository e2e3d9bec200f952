"""Distillation runs: the student run's config from the teacher's, and the training call.

A distillation run directory is a training run directory (``run_dir``): its config names a
student generator and records the teacher, its checkpoints hold ``generator_a2b`` /
``generator_b2a``, and ``export``, ``translate`` and ``evaluate`` read it as any other.
"""

import dataclasses
import math
import os

import tensorflow as tf

from tf_cyclegan.common import architectures, errors, run_dir
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.distillation import distiller
from tf_cyclegan.networks import restore
from tf_cyclegan.training import train_lib

# Parts whose options the teacher's config provides unless a flag gives them.
_INHERITED_PARTS = ("data", "optim")


def _teacher_checkpoint(config):
    """The teacher checkpoint to distill: the one this run recorded, else the newest."""
    path = os.path.join(config.train.model_dir, run_dir.CONFIG_FILE)
    if tf.io.gfile.exists(path):
        recorded = config_lib.load(config.train.model_dir).distill.teacher_checkpoint
        if recorded:
            return recorded
    _, _, checkpoint = restore.load_generators(config.distill.teacher)
    is_url = "://" in checkpoint
    return checkpoint if is_url else os.path.abspath(checkpoint)


def from_teacher(config, student, directions=None, given=()):
    """The full config of a distillation run.

    Args:
        config: a ``config.Config`` from ``distill``'s flags (``DISTILL_PARTS``).
        student: an ``architectures.student_names()`` name.
        directions: the directions to distill ("a2b", "b2a"); all the teacher holds if None.
        given: the names of the flags the user set; the data and schedule options they do
            not set are the teacher's.

    Returns:
        a ``config.Config``: the teacher's model with the student generator, the teacher's
        objective settings (its discriminators' loss), and ``distill.teacher_checkpoint``.
    """
    teacher_dir = config.distill.teacher
    if not teacher_dir:
        raise errors.ConfigError("--teacher is required: a run directory of train or import_torch")
    if os.path.normpath(teacher_dir) == os.path.normpath(config.train.model_dir):
        raise errors.ConfigError(
            f"--model_dir={config.train.model_dir} is the teacher's run; distill into a new one"
        )
    teacher = config_lib.load(teacher_dir)
    held = teacher.model.generator_directions
    directions = tuple(directions or held)
    for direction in directions:
        run_dir.require_direction(held, direction, teacher_dir)
    if student not in architectures.student_names():
        raise errors.ConfigError(
            f"unknown student {student!r}; expected one of {architectures.student_names()}"
        )
    parts = {}
    for part in _INHERITED_PARTS:
        ours, theirs = getattr(config, part), getattr(teacher, part)
        keep = {
            f.name: getattr(ours, f.name)
            for f in dataclasses.fields(ours)
            if (f.metadata.get("flag") or f.name) in given
        }
        parts[part] = dataclasses.replace(theirs, **keep)
    model = dataclasses.replace(  # The teacher's architecture options are not the student's.
        teacher.model,
        generator=student,
        directions=",".join(directions),
        pytorch_compatible=False,
        sub_mobile_config=None,
    )
    config = dataclasses.replace(config, model=model, loss=teacher.loss, **parts)
    checkpoint = _teacher_checkpoint(config)
    return dataclasses.replace(
        config, distill=dataclasses.replace(config.distill, teacher_checkpoint=checkpoint)
    )


def validate(config):
    """Raises ConfigError naming the first bad distillation option."""
    cfg = config.distill
    for flag in ("lambda_output", "lambda_feature", "lambda_adversarial"):
        value = getattr(cfg, flag)
        if not math.isfinite(value) or value < 0:
            raise errors.ConfigError(f"--{flag}={value} must be a finite number >= 0")
    if config.model.generator not in architectures.student_names():
        raise errors.ConfigError(
            f"generator {config.model.generator!r} is not a student; expected one of "
            f"{architectures.student_names()}"
        )


def distill(config, strategy=None):
    """Distills (or resumes distilling) the run ``config`` describes (``from_teacher``).

    Returns:
        what ``train_lib.train`` returns; "eval" adds "<direction>/psnr_vs_teacher".
    """
    validate(config)
    return train_lib.train(config, strategy, build_model=distiller.Distiller)
