"""The run directory's on-disk contract: names, the lock, checkpoints that restore.

A run directory (``--model_dir``) holds:

- ``config.json``: the run's configuration (``config.save``/``config.load``);
- ``ckpt-N.index``, ``ckpt-N.data-*``, ``checkpoint``: ``tf.train.Checkpoint``s whose keys
  (``model/generator_a2b/...``) are an API;
- ``train/``: TensorBoard events; ``samples/``: sample grids as PNG;
- ``eval.json``: the latest evaluation (the end of training, or ``evaluate``);
- ``best/``: the generators at the evaluation with the best FID (``best/best.json`` names
  its step, metric and value; ``--checkpoint=best`` reads it);
- ``.lock``: held by the one trainer writing the directory.

Everything goes through ``tf.io.gfile``, so a run may live on any filesystem TensorFlow
reads (local, ``gs://``, ``ram://``).
"""

import json
import os
import re

import tensorflow as tf
from absl import logging

from tf_cyclegan.common import atomic_file, errors
from tf_cyclegan.common.conventions import DIRECTIONS

CONFIG_FILE = "config.json"
EVAL_FILE = "eval.json"
TRAIN_LOGS = "train"
SAMPLES = "samples"
# Inception features of the real test images, computed once per run for the FID curve.
FID_REFERENCE = "fid_reference"
LOCK_FILE = ".lock"
# Where an imported run records its source files (import_torch).
IMPORT_FILE = "imported.json"
CHECKPOINT_PREFIX = "ckpt"
# The best evaluation's generators (training.best) and their record.
BEST_DIR = "best"
BEST_FILE = "best.json"
# The --checkpoint value that names them.
BEST = "best"
# A lease on a filesystem without flock is refreshed this often and lapses after LEASE_S.

_CHECKPOINT_INDEX = re.compile(rf"^{CHECKPOINT_PREFIX}-(\d+)\.index$")
_KILLED_SAVE = re.compile(rf"^{CHECKPOINT_PREFIX}-\d+_temp")


def is_local(path):
    return "://" not in path or path.startswith("file://")


def write_atomically(path, text):
    """Writes ``text`` to ``path`` through a partial file and a rename (``atomic_file``)."""
    if is_local(path):
        with atomic_file.replacing(path) as partial:
            with open(partial, "w") as f:
                f.write(text)
        return
    tmp = atomic_file.partial_path(path)
    with tf.io.gfile.GFile(tmp, "w") as f:
        f.write(text)
    tf.io.gfile.rename(tmp, path, overwrite=True)


def write_json(path, values):
    write_atomically(path, json.dumps(values, indent=2) + "\n")


def error_summary(error):
    """The first line of an exception's message (TensorFlow's run to many lines)."""
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


_MAX_RELISTS = 10
CHECKPOINT_STATE = "checkpoint"  # tf.train.CheckpointManager's state file.
# Checkpoint keys (an API: existing runs must keep restoring): the trainer's tf.Module is saved
# under "model", and its generators as model/generator_a2b and model/generator_b2a.
CHECKPOINT_ROOT = "model"
GENERATOR_KEYS = {"a2b": "generator_a2b", "b2a": "generator_b2a"}


def checkpoint_tree(networks):
    """The ``tf.train.Checkpoint`` of ``networks`` under the keys every run uses.

    The keys are an API (first-wave runs must keep restoring): ``model/<attribute>``, e.g.
    ``model/generator_a2b/...``.

    Args:
        networks: a training state (``tf.Module``) whose attributes are the networks,
            optimizers and counters, or {attribute name: trackable} for some of them.
    """
    owner = networks if isinstance(networks, tf.Module) else tf.train.Checkpoint(**networks)
    return tf.train.Checkpoint(**{CHECKPOINT_ROOT: owner})


def checkpoints(model_dir):
    """Checkpoint prefixes in ``model_dir``, newest first, found from the files themselves.

    The ``checkpoint`` state file is not trusted: a killed or corrupted write may have
    damaged it, or it may name checkpoints whose files are gone.
    """
    if not tf.io.gfile.isdir(model_dir):
        return []
    steps = []
    for name in tf.io.gfile.listdir(model_dir):
        match = _CHECKPOINT_INDEX.match(name.rstrip("/"))
        if match:
            steps.append(int(match.group(1)))
    return [checkpoint_path(model_dir, s) for s in sorted(steps)[::-1]]


def read_best(model_dir):
    """The record of the run's best checkpoint ({"step", "metric", "value", "checkpoint"}),
    or None when the run keeps none. A damaged record reads as none."""
    path = os.path.join(model_dir, BEST_DIR, BEST_FILE)
    if not tf.io.gfile.exists(path):
        return None
    try:
        with tf.io.gfile.GFile(path) as f:
            record = json.load(f)
        return record if {"step", "value", "checkpoint"} <= set(record) else None
    except (ValueError, UnicodeDecodeError, tf.errors.OpError):
        return None


def write_best(model_dir, record):
    """Writes the best checkpoint's record atomically (``training.best``)."""
    write_json(os.path.join(model_dir, BEST_DIR, BEST_FILE), record)


def best_checkpoint(model_dir):
    """The prefix of the run's best checkpoint (``--checkpoint=best``).

    Raises:
        MissingError: the run keeps no best checkpoint.
    """
    record = read_best(model_dir)
    prefix = record and os.path.join(model_dir, BEST_DIR, record["checkpoint"])
    if not prefix or not tf.io.gfile.exists(f"{prefix}.index"):
        raise errors.MissingError(
            f"{model_dir} keeps no best checkpoint ({BEST_DIR}/{BEST_FILE}): training keeps "
            "one with --eval_every and --inception_weights; leave --checkpoint out for the "
            "newest"
        )
    return prefix


def remove_checkpoints(directory, keep):
    """Removes the checkpoints in ``directory`` other than the prefix ``keep``."""
    for prefix in checkpoints(directory):
        if prefix != keep:
            for path in tf.io.gfile.glob(f"{prefix}.*"):
                tf.io.gfile.remove(path)


def worker_scratch_dir(model_dir, task_type, task_id):
    """Where a non-chief multi-worker task saves its (collective) checkpoints; removed after."""
    return os.path.join(model_dir, f".{task_type}_{task_id}_tmp")


def checkpoint_path(directory, step):
    """The prefix of the checkpoint of ``step`` in ``directory``."""
    return os.path.join(directory, f"{CHECKPOINT_PREFIX}-{step}")


class UnusableCheckpoint(ValueError):
    """A checkpoint that restores but must not be resumed (its message says why)."""


def repair_state(directory):
    """Rewrites the ``checkpoint`` state file from the checkpoints present, when it is
    damaged (empty after a full disk or a crash mid-rewrite) or names missing checkpoints.

    ``tf.train.CheckpointManager`` reads that file first and fails on a damaged one; the
    checkpoints themselves are found from their ``.index`` files. Only the lock holder calls
    this. Returns True when it rewrote the file.
    """
    present = checkpoints(directory)[::-1]  # Oldest first, as the state file lists them.
    if not present:
        return False
    try:
        state = tf.train.get_checkpoint_state(directory)
        listed = list(state.all_model_checkpoint_paths) if state else []
    except Exception:  # noqa: BLE001 (TF raises ValueError or a protobuf ParseError)
        state, listed = None, []
    names = {os.path.basename(p) for p in present}
    if state and listed and all(os.path.basename(p) in names for p in listed):
        return False
    # CheckpointState as text, relative paths as the manager writes them; with timestamps
    # (the .index files' times) the manager rotates the listed checkpoints out as usual.
    lines = [f'model_checkpoint_path: "{os.path.basename(present[-1])}"']
    lines += [f'all_model_checkpoint_paths: "{os.path.basename(p)}"' for p in present]
    for prefix in present:
        stamp = tf.io.gfile.stat(f"{prefix}.index").mtime_nsec / 1e9
        lines.append(f"all_model_checkpoint_timestamps: {stamp}")
    write_atomically(os.path.join(directory, CHECKPOINT_STATE), "\n".join(lines) + "\n")
    kept = ", ".join(os.path.basename(p) for p in present)
    print(f"warning: {directory}/checkpoint was damaged; rebuilt it from {kept}", flush=True)
    return True


def restore_newest(restore, model_dir):
    """Restores the newest checkpoint that ``restore`` accepts, skipping damaged ones.

    Args:
        restore: callable(prefix) that restores from ``prefix`` and raises on failure
            (``UnusableCheckpoint`` for one that restores but must not be used).
        model_dir: where to look.

    Returns:
        The prefix restored, or None when ``model_dir`` holds no checkpoint.

    Raises:
        RunDirError: there are checkpoints, but none of them restores.
    """
    failures = []
    # A trainer running beside us (evaluate and export do not take the lock) may delete a
    # checkpoint while it is read, rotating in a newer one: then list again.
    for _ in range(_MAX_RELISTS):
        for prefix in checkpoints(model_dir):
            try:
                restore(prefix)
            except (tf.errors.OpError, ValueError, IndexError, AssertionError, OSError) as e:
                if not tf.io.gfile.exists(f"{prefix}.index"):
                    break  # Rotated away while we read it.
                reason = str(e) if isinstance(e, UnusableCheckpoint) else error_summary(e)
                if not isinstance(e, UnusableCheckpoint):
                    reason = f"it does not restore ({reason})"
                print(f"warning: skipping {prefix}: {reason}", flush=True)
                failures.append(f"{os.path.basename(prefix)}: {reason}")
                continue
            return prefix
        else:
            break
    if failures:
        raise errors.RunDirError(
            f"no checkpoint in {model_dir} restores ({'; '.join(failures)}); "
            "restore a backup or train into a new --model_dir"
        )
    return None


def remove_killed_saves(model_dir):
    """Removes ``ckpt-N_temp*`` folders that a save killed midway left behind.

    Only the lock holder calls this: such folders are our own half-written files.
    """
    if not tf.io.gfile.isdir(model_dir):
        return
    for name in tf.io.gfile.listdir(model_dir):
        name = name.rstrip("/")
        path = os.path.join(model_dir, name)
        if _KILLED_SAVE.match(name) and tf.io.gfile.isdir(path):
            logging.info("Removing %s, left by a save that was killed", path)
            tf.io.gfile.rmtree(path)


def require_direction(held, direction, source):
    """Raises a one-line error when ``source``, holding the directions ``held`` (an iterable
    of "a2b"/"b2a"), has no generator for ``direction``."""
    held = list(held)
    if direction not in DIRECTIONS:
        raise errors.ConfigError(
            f"unknown direction {direction!r}; expected {' or '.join(DIRECTIONS)}"
        )
    if direction not in held:
        held = ", ".join(held)
        raise errors.ConfigError(
            f"{source} holds only the {held} generator (a CUT run, or an import of one file); "
            f"use --direction={held} (an import takes the {direction} file with "
            f"--checkpoint_{direction})"
        )
