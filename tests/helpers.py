"""Shared test fixtures: tiny configs and a prepared synthetic dataset."""

import contextlib
import dataclasses
import functools
import io
import os
import shutil
import subprocess
import sys
import tempfile

import tensorflow as tf

import tiny_generator  # First: it registers the tests' networks before config reads the registry.
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import run_dir

# The repository (flags/, export/, the commands run with ``python -m`` from here).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
# Its sitecustomize.py gives the commands the tests start conftest.py's TensorFlow settings.
_SUBPROCESS_SITE = os.path.join(ROOT, "tests", "subprocess_site")


@functools.cache
def synthetic_data_dir():
    """A TFDS data_dir with synthetic_shapes prepared, shared by one test process."""
    from tf_cyclegan.data import sources

    path = os.environ.get("TF_CYCLEGAN_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="tfds_")
    sources.get_builder("synthetic", path)
    return path


@functools.cache
def trained_run(checkpoint_every=2):
    """A run directory of ``tiny_config`` trained 2 steps, shared by one test process.

    Tests read it and never write into it (``copy_run`` gives one to write into).
    ``checkpoint_every=1`` keeps two checkpoints, ckpt-1 and ckpt-2.
    """
    from tf_cyclegan.training import train_lib

    model_dir = os.path.join(tempfile.mkdtemp(prefix="run_"), "run")
    overrides = {"train.train_steps": 2, "train.checkpoint_every": checkpoint_every}
    train_lib.train(tiny_config(model_dir, **overrides))
    return model_dir


def copy_run(model_dir):
    """A fresh copy of the run in ``model_dir`` (for a test that writes into its run)."""
    copy = os.path.join(tempfile.mkdtemp(prefix="run_copy_"), "run")
    shutil.copytree(model_dir, copy)
    return copy


def stopped_copy(model_dir, step):
    """A copy of the run in ``model_dir`` as it stood when it had saved ``step``: its later
    checkpoints left out. Resuming it is resuming a run stopped at ``step``, without
    training one: the resume-equality tests compare it with ``model_dir`` itself.
    """
    copy = copy_run(model_dir)
    kept = run_dir.checkpoint_path(copy, step)
    if kept not in run_dir.checkpoints(copy):
        raise ValueError(f"{model_dir} saved no checkpoint at step {step}")
    for prefix in run_dir.checkpoints(copy):
        if int(prefix.rsplit("-", 1)[1]) > step:
            for path in tf.io.gfile.glob(f"{prefix}.*"):
                os.remove(path)
    os.remove(os.path.join(copy, run_dir.CHECKPOINT_STATE))
    run_dir.repair_state(copy)  # As the manager would have left it at ``step``.
    return copy


def resumed(test, step, train, config, *args):
    """``train(config, *args)``, asserting that it resumed the run in ``config``'s model_dir
    at ``step`` (a run started afresh, or one already done, would match a straight run too
    and prove nothing)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = train(config, *args)
    prefix = run_dir.checkpoint_path(config.train.model_dir, step)
    test.assertIn(f"Resumed from {prefix} at step {step}\n", out.getvalue())
    return result


# The tiny config's networks (model options).
_TINY_MODEL = {"generator": tiny_generator.NAME, "ngf": 4, "ndf": 4}


def tiny_config(model_dir, **overrides):
    """A config that trains in well under a second per step on a CPU.

    overrides: "part.field" -> value, e.g. {"loss.pool_size": 0}.
    """
    config = config_lib.Config(
        model=config_lib.ModelConfig(**_TINY_MODEL),
        loss=config_lib.LossConfig(pool_size=3),
        optim=config_lib.OptimConfig(epochs=1, epochs_decay=1),
        data=config_lib.DataConfig(
            dataset="synthetic",
            data_dir=synthetic_data_dir(),
            load_size=36,
            crop_size=32,
            batch_size=2,
            max_dataset_size=16,
            num_samples=2,
        ),
        train=config_lib.TrainConfig(
            model_dir=str(model_dir),
            train_steps=4,
            checkpoint_every=2,
            summary_every=2,
            sample_every=4,  # Sample grids are eager calls: the last step only, mostly.
            log_every=2,
            # Not "auto": the tests' tolerances must not depend on the CPU they run on.
            mixed_precision="float32",
        ),
    )
    parts = {}
    for key, value in overrides.items():
        part, field = key.split(".")
        parts.setdefault(part, {})[field] = value
    for part, fields in parts.items():
        config = dataclasses.replace(
            config, **{part: dataclasses.replace(getattr(config, part), **fields)}
        )
    return config


def subprocess_env(**variables):
    """The environment for a command a test starts: this one's, ``variables`` added, and
    conftest.py's TensorFlow settings (no Grappler, one thread per op) through
    ``subprocess_site/sitecustomize.py``: seconds less per process on tiny shapes."""
    path = os.pathsep.join(p for p in (_SUBPROCESS_SITE, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, **variables}


def run_python(*args, timeout=300, **kwargs):
    """``python *args`` from the repository root, output captured as text (a process
    boundary: the commands' exit statuses, what they print, signals)."""
    options = dict(cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=subprocess_env())
    return subprocess.run([sys.executable, *args], **{**options, **kwargs})


def smoke_train_command(model_dir, *flags):
    """``python -m tf_cyclegan.train`` with the smoke preset on the shared synthetic data."""
    return [
        sys.executable,
        "-m",
        "tf_cyclegan.train",
        "--flagfile=flags/smoke.cfg",
        f"--model_dir={model_dir}",
        f"--data_dir={synthetic_data_dir()}",
        *flags,
    ]


# The tiny config's networks as command-line flags, for the commands whose test is about the
# process (signals, kills) rather than the preset's networks.
TINY_NETWORK_FLAGS = tuple(f"--{name}={value}" for name, value in _TINY_MODEL.items())


def with_train_steps(config, steps):
    """``config`` with ``train.train_steps`` set to ``steps``."""
    return dataclasses.replace(config, train=dataclasses.replace(config.train, train_steps=steps))


def export(model_dir, export_dir, **overrides):
    """``export_lib.export`` of every quantization, with the few images tests can afford."""
    from tf_cyclegan.exporting import export_lib

    options = dict(
        quantizations=("float32", "float16", "dynamic_range", "int8"),
        representative_images=8,
        parity_images=2,
    )
    return export_lib.export(export_lib.ExportConfig(model_dir, export_dir, **options | overrides))


def checkpoint_values(model_dir):
    """{checkpoint key: value} of the latest checkpoint in ``model_dir``, all state."""
    path = tf.train.latest_checkpoint(model_dir)
    # save_counter counts saves, which differ when a run stops halfway; it is not state.
    skip = ("_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter/.ATTRIBUTES/VARIABLE_VALUE")
    names = [n for n, _ in tf.train.list_variables(path) if n not in skip]
    return {n: tf.train.load_variable(path, n) for n in names}


# The standard FID network narrowed 16x, random weights, in both files' layouts
# (tools/fid_reference.py writes them, with PyTorch's features of fixture_images()).
FID_FIXTURES = os.path.join(FIXTURES, "fid")
NARROW_FID_PTH = os.path.join(FID_FIXTURES, "narrow_pytorch_fid.pth")
NARROW_FID_TORCHSCRIPT = os.path.join(FID_FIXTURES, "narrow_torchscript.pt")
NARROW_FID_FEATURES = os.path.join(FID_FIXTURES, "narrow_features.npy")


def fid_fixture_images():
    """The FID fixtures' two float32 [40, 56, 3] images in [0, 1]: smooth, non-square."""
    import numpy as np

    y, x = np.mgrid[0:40, 0:56].astype(np.float32)
    first = np.stack([np.sin(x / 7) * np.cos(y / 5), x / 56 - y / 80, np.cos((x + y) / 9)], -1)
    second = np.stack([np.cos(x / 3 + y / 11), (x * y) / 2240, np.sin(y / 4)], -1)
    return ((np.stack([first, second]) + 1) / 2).clip(0, 1).astype(np.float32)


def stand_in_inception():
    """The narrowed standard FID network: its topology and files, a fraction of its cost."""
    from tf_cyclegan.evaluation import inception

    return inception.load(NARROW_FID_PTH)
