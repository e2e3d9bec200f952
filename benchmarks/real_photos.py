r"""Real photos: a preset trained within a time budget, measured with the standard FID.

  python benchmarks/real_photos.py --dataset=horse2zebra --inception_weights=default_1.pt
  python benchmarks/real_photos.py --dataset=cats_dogs --inception_weights=default_1.pt
  python benchmarks/real_photos.py --dataset=/my/folder --flagfile=flags/my.cfg ...

``--dataset`` is a preset (below: its flagfile, where its photos are, its budget), a CycleGAN
folder (trainA, trainB, testA, testB) or a TFDS ``cycle_gan/<config>`` name (prepared from
``--source`` when given). Trains ``python -m tf_cyclegan.train --flagfile=<preset>`` until its
schedule ends or ``--minutes`` pass (then it is interrupted, which saves the step reached),
with the FID curve and the best checkpoint (``--eval_every`` in the preset). Then, in this
run, with the standard FID network, for the final and the best checkpoint (labelled), at the
training resolution and at ``--published_size`` (the published protocol: all test images
translated at 256x256 against all real test images of the target domain):

- FID and KID per direction, the untranslated baseline and the real-vs-real floor;
- the share of translations an independent classifier (logistic regression on the FID
  network's features of every training image) assigns to the target domain, and its
  accuracy on the real test photos;
- the FID curve from TensorBoard; steps, wall time, images/s; a grid of held-out photos and
  their translations (and ``--figure``: the README's figure, at most 8 pairs).

``--dump_test_images`` and ``--score_translations`` put the official training iteration
beside ours (``tools/torch_train_folder.py``, which needs PyTorch): the first writes the
test images at the training resolution for it, the second scores what it translated, on
the same images and references as our checkpoints of the same steps.
"""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

from absl import app, flags, logging
from common import cpu_description

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")


@dataclasses.dataclass(frozen=True)
class Preset:
    """A dataset's benchmark: its flagfile, its photos, its budget, its published size."""

    flagfile: str
    source: str  # A CycleGAN folder.
    tfds_name: str | None  # Trained as this TFDS dataset (prepared from source), or the folder.
    minutes: float
    published_size: int | None


PRESETS = {
    "horse2zebra": Preset(
        "flags/horse2zebra_cpu.cfg",
        os.path.join(SHARED, "horse2zebra"),
        "cycle_gan/horse2zebra",
        120.0,
        256,
    ),
    "cats_dogs": Preset(
        "flags/cats_dogs_cpu.cfg", os.path.join(SHARED, "cats_dogs"), None, 60.0, None
    ),
}

_DATASET = flags.DEFINE_string(
    "dataset", "horse2zebra", f"{sorted(PRESETS)}, a folder or a TFDS name."
)
_FLAGFILE = flags.DEFINE_string(
    "preset_flagfile", None, "Train with this flagfile (default: the preset's)."
)
_SOURCE = flags.DEFINE_string("source", None, "Prepare a TFDS cycle_gan dataset from this folder.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "The TFDS data directory (default TFDS').")
_WEIGHTS = flags.DEFINE_string(
    "inception_weights", None, "The standard FID network.", required=True
)
_MODEL = flags.DEFINE_enum(
    "model",
    "cyclegan",
    ["cyclegan", "cut", "fastcut"],
    "What to train: a preset's flags/<dataset>_<model>_cpu.cfg (CycleGAN: <dataset>_cpu.cfg); "
    "elsewhere --model is passed to train.",
)
_MINUTES = flags.DEFINE_float("minutes", None, "Wall-clock budget (default: the preset's).")
_MODEL_DIR = flags.DEFINE_string("model_dir", "/tmp/real_photos", "The run directory.")
_EXTRA = flags.DEFINE_multi_string("train_flag", [], "More flags for train (repeatable).")
_PUBLISHED = flags.DEFINE_integer(
    "published_size", None, "Also measure at this size (default: the preset's)."
)
_GRID = flags.DEFINE_integer("grid_images", 6, "Held-out photos per direction in the grid.")
_FIGURE = flags.DEFINE_string("figure", None, "Also write the a2b pairs as this JPEG.")
_FIGURE_PAIRS = flags.DEFINE_integer("figure_pairs", 8, "Pairs in --figure (at most 8).")
_EVALUATE_ONLY = flags.DEFINE_boolean("evaluate_only", False, "Measure the run in --model_dir.")
_DUMP = flags.DEFINE_string("dump_test_images", None, "Write the test images (.npz) and exit.")
_SCORE = flags.DEFINE_string(
    "score_translations", None, "Score tools/torch_train_folder.py's output."
)
_ARCHIVE = flags.DEFINE_string("checkpoint_archive", None, "Copies of the run's ckpt-N files.")


def _preset():
    """The preset --dataset names, or one built from the flags for a folder or TFDS name."""
    preset = PRESETS.get(_DATASET.value)
    if preset is None:
        folder = os.path.isdir(_DATASET.value)
        preset = Preset(
            _FLAGFILE.value or "flags/horse2zebra_cpu.cfg",
            os.path.abspath(_DATASET.value) if folder else _SOURCE.value,
            None if folder else _DATASET.value,
            60.0,
            256 if _DATASET.value.startswith("cycle_gan/") else None,
        )
    flagfile = preset.flagfile
    if _MODEL.value != "cyclegan" and _DATASET.value in PRESETS:
        flagfile = flagfile.replace("_cpu.cfg", f"_{_MODEL.value}_cpu.cfg")
    return dataclasses.replace(
        preset,
        flagfile=_FLAGFILE.value or flagfile,
        minutes=_MINUTES.value or preset.minutes,
        published_size=_PUBLISHED.value or preset.published_size,
    )


def _dataset_flags(preset):
    """The train flags naming the data: the prepared TFDS dataset, or the folder."""
    data_dir = [f"--data_dir={_DATA_DIR.value}"] if _DATA_DIR.value else []
    return [f"--dataset={preset.tfds_name or preset.source}", *data_dir]


def _prepare(preset):
    """Prepares the preset's TFDS dataset from its folder, unless it is prepared already."""
    import tensorflow_datasets as tfds

    if (
        not preset.tfds_name
        or tfds.builder(preset.tfds_name, data_dir=_DATA_DIR.value).is_prepared()
    ):
        return
    command = [sys.executable, "-m", "tf_cyclegan.prepare", f"--source={preset.source}"]
    command += [f"--dataset={preset.tfds_name}", *_dataset_flags(preset)[1:]]
    subprocess.run(command, cwd=ROOT, check=True)


def _train(preset, model_dir):
    """Runs the training command for at most the budget; returns (seconds, interrupted)."""
    command = [
        sys.executable, "-m", "tf_cyclegan.train", f"--flagfile={preset.flagfile}",
        *_dataset_flags(preset), f"--model_dir={model_dir}",
        f"--inception_weights={_WEIGHTS.value}", f"--model={_MODEL.value}", *_EXTRA.value,
    ]  # fmt: skip
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        process.wait(timeout=preset.minutes * 60)
        interrupted = False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # Saves the step reached, then exits.
        process.wait()
        interrupted = True
    if process.returncode not in (0, -signal.SIGINT, 130) and not interrupted:
        raise SystemExit(f"training failed with status {process.returncode}")
    return time.monotonic() - start, interrupted


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # TFDS logs every split it opens.
    print(cpu_description(), flush=True)
    preset, model_dir = _preset(), _MODEL_DIR.value
    seconds = interrupted = None
    if not (_EVALUATE_ONLY.value or _DUMP.value or _SCORE.value):
        _prepare(preset)
        seconds, interrupted = _train(preset, model_dir)

    sys.path.insert(0, ROOT)  # Runs from a checkout too, as the training command does.
    import photo_report

    if _DUMP.value:
        photo_report.dump_test_images(model_dir, _DUMP.value)
        return
    if _SCORE.value:
        photo_report.compare_with_torch(model_dir, _WEIGHTS.value, _SCORE.value, _ARCHIVE.value)
        return
    report = photo_report.measure(model_dir, _WEIGHTS.value, preset.published_size, _GRID.value)
    if seconds:
        step, batch = report["final"]["step"], report["batch_size"]
        ended = "budget reached" if interrupted else "schedule done"
        print(
            f"{seconds / 60:.1f} min of training ({ended}): step {step}, {seconds / step:.3f} "
            f"s/step, {step * batch / seconds:.2f} images/s, evaluations included"
        )
        report["training"] = {"seconds": seconds, "interrupted": interrupted}
    if _FIGURE.value:
        photo_report.figure(_FIGURE.value, report.pop("figure_pairs"), _FIGURE_PAIRS.value)
    report.pop("figure_pairs", None)
    out = os.path.join(model_dir, f"real_photos_step_{report['final']['step']}.json")
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"Figures: {out}")


if __name__ == "__main__":
    app.run(main)
