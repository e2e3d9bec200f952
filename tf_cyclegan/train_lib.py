"""The training loop: checkpoints, exact resume, TensorBoard and samples. Reads no flags."""

import contextlib
import dataclasses
import json
import os
import signal
import threading
import time

import keras
import numpy as np
import tensorflow as tf

from tf_cyclegan import config as config_lib
from tf_cyclegan import (
    conv_paths,
    conventions,
    cyclegan,
    data,
    distribute,
    errors,
    evaluation,
    run_dir,
    summaries,
)


def _check_resumable(config, model_dir):
    """Refuses to continue a run whose trajectory-shaping options were different."""
    if not tf.io.gfile.exists(os.path.join(model_dir, run_dir.CONFIG_FILE)):
        if run_dir.checkpoints(model_dir):
            raise errors.RunDirError(
                f"{model_dir} holds checkpoints but no {run_dir.CONFIG_FILE}; restore that "
                "file, or use a new --model_dir"
            )
        return
    changed = config_lib.identity_changes(config_lib.load(model_dir), config)
    if changed:
        listed = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
        raise errors.RunDirError(
            f"{model_dir} holds a run with other options ({listed}); resume with the run's "
            "original options, or use a new --model_dir"
        )


def _nonfinite_variables(model):
    """Names of the networks' variables holding NaN or infinity."""
    variables = model.generator_variables + model.discriminator_variables
    flags = tf.stack([tf.reduce_all(tf.math.is_finite(v)) for v in variables]).numpy()
    return [v.path for v, ok in zip(variables, flags) if not ok]


def _diverged(step, what, manager, config):
    kept = manager.latest_checkpoint or "none (no finite state was saved)"
    return errors.DivergedError(
        f"training diverged at step {step} ({what} not finite); the last finite checkpoint "
        f"is kept: {kept}. Lower --lr (now {config.optim.lr}) or the loss weights, and train "
        "into a new --model_dir"
    )


def _format_eta(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _Progress:
    """Prints one line per ``log_every`` steps: step, epoch, losses, images/s, ETA."""

    def __init__(self, total_steps, steps_per_epoch, global_batch, start_step):
        self.total, self.spe, self.batch = total_steps, steps_per_epoch, global_batch
        self.last_step, self.last_time = start_step, time.perf_counter()
        self.images_per_second = 0.0

    def update(self, step, losses):
        now = time.perf_counter()
        if step > self.last_step:
            self.images_per_second = (step - self.last_step) * self.batch / (now - self.last_time)
        self.last_step, self.last_time = step, now
        eta = (self.total - step) * self.batch / max(self.images_per_second, 1e-9)
        short = {
            k.replace("generator/", "G/").replace("discriminator", "D"): v
            for k, v in losses.items()
        }
        terms = " ".join(f"{k} {v:.3f}" for k, v in short.items())
        epoch = step // self.spe + (1 if step % self.spe else 0)
        print(
            f"step {step}/{self.total} epoch {epoch}/{-(-self.total // self.spe)} | {terms} | "
            f"{self.images_per_second:.2f} img/s | ETA {_format_eta(eta)}",
            flush=True,
        )


def _write_samples(model, samples, model_dir, step, writer):
    grids = summaries.sample_grids(model, *samples)
    with writer.as_default(step=step):
        for direction, image in grids.items():
            tf.summary.image(f"samples/{direction}", image, max_outputs=1)
            name = f"step_{step:08d}_{direction}.png"
            summaries.write_png(image, os.path.join(model_dir, run_dir.SAMPLES, name))


def _evaluate(model, builder, config, inception_model, writer, step):
    results = evaluation.evaluate(model.translate, builder, config.data.crop_size, inception_model)
    with writer.as_default(step=step):
        for name, value in results.items():
            tf.summary.scalar(f"eval/{name}", value)
    return results


class _DeferredInterrupt:
    """Turns the first Ctrl-C into a request the loop honours between steps.

    A SIGINT delivered as an exception can land in a finalizer or one of TensorFlow's Python
    callbacks, where Python swallows it ("Exception ignored in ...") and training went on; a
    flag checked between steps cannot be lost. A second Ctrl-C interrupts at once.
    """

    def __init__(self):
        self.requested = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        del signum, frame
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self):
        if self.requested:
            raise KeyboardInterrupt

    def restore(self):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def train(config, strategy=None):
    """Trains (or resumes) the run that ``config`` describes.

    Args:
        config: a ``config.Config``.
        strategy: a ``tf.distribute.Strategy``; the current one by default.

    Returns:
        dict with "step", the final "losses", "eval" (ground-truth errors where known) and
        "model", the trained ``CycleGAN``.
    """
    config_lib.validate(config)
    strategy = strategy or tf.distribute.get_strategy()
    config = dataclasses.replace(
        config,
        train=dataclasses.replace(config.train, num_replicas=strategy.num_replicas_in_sync),
    )
    chief = distribute.is_chief(strategy)
    # One trainer per run directory; non-chief workers write only their scratch dirs.
    held = run_dir.lock(config.train.model_dir) if chief else contextlib.nullcontext()
    with held:
        return _train_locked(config, strategy, chief)


def _train_locked(config, strategy, chief):
    cfg, model_dir = config.train, config.train.model_dir
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    conv_paths.configure(cfg.conv_gradients)
    keras.utils.set_random_seed(cfg.seed)
    _check_resumable(config, model_dir)
    if chief:
        run_dir.remove_killed_saves(model_dir)

    builder = data.get_builder(config.data.dataset, config.data.data_dir)
    global_batch = config.data.batch_size * strategy.num_replicas_in_sync
    spe = data.steps_per_epoch(builder, config.data, global_batch)
    model = cyclegan.CycleGAN(config, spe, strategy)
    checkpoint = tf.train.Checkpoint(model=model)
    # Every task restores the chief's newest checkpoint that restores; each saves (a
    # collective) to its own directory.
    save_dir = distribute.checkpoint_dir(strategy, model_dir)
    manager = tf.train.CheckpointManager(checkpoint, save_dir, max_to_keep=cfg.max_to_keep)
    latest = run_dir.restore_newest(
        lambda p: checkpoint.restore(p).assert_existing_objects_matched(), model_dir
    )
    if latest:
        print(f"Resumed from {latest} at step {int(model.step.numpy())}", flush=True)
    start = int(model.step.numpy())
    total = (
        cfg.train_steps
        if cfg.train_steps is not None
        else ((config.optim.epochs + config.optim.epochs_decay) * spe)
    )

    size = config.data.crop_size
    samples = tuple(
        data.sample_images(builder, s, config.data.num_samples, size)
        for s in conventions.TEST_SPLITS
    )
    dataset = strategy.distribute_datasets_from_function(
        lambda ctx: data.train_dataset(builder, config.data, cfg.seed, global_batch, start, ctx)
    )
    iterator = iter(dataset)
    inception_model = None
    if chief and cfg.inception_weights:
        from tf_cyclegan import inception

        inception_model = inception.load(cfg.inception_weights)
    # Everything the run needs exists: from here on the directory describes a real run.
    if chief:
        config_lib.save(config, model_dir)
        writer = tf.summary.create_file_writer(os.path.join(model_dir, run_dir.TRAIN_LOGS))
    else:
        writer = tf.summary.create_noop_writer()
    with writer.as_default(step=start):
        tf.summary.text("config", f"```\n{config.to_json()}\n```")
    progress = _Progress(total, spe, global_batch, start)
    losses = {}

    def save(step):
        bad = _nonfinite_variables(model)
        if bad:
            raise _diverged(step, f"weights {bad[:3]}", manager, config)
        manager.save(checkpoint_number=step)

    step = start
    interrupt = _DeferredInterrupt()
    try:
        for step in range(start + 1, total + 1):
            interrupt.check()
            outputs = model.train_step(iterator)
            # Losses are read (a host sync) only when logged; checkpoints are guarded by the
            # weight check in save(), so no non-finite state is ever saved.
            if step % cfg.log_every == 0 or step == total or step % cfg.summary_every == 0:
                losses = {k: float(v) for k, v in outputs.items()}
                if not np.all(np.isfinite(list(losses.values()))):
                    raise _diverged(step, "the losses are", manager, config)
            if chief and (step % cfg.log_every == 0 or step == total):
                progress.update(step, losses)
            if step % cfg.summary_every == 0 or step == total:
                with writer.as_default(step=step):
                    for name, value in losses.items():
                        tf.summary.scalar(f"losses/{name}", value)
                    tf.summary.scalar("learning_rate", float(model.learning_rate))
                    tf.summary.scalar("images_per_second", progress.images_per_second)
            if chief and (step % cfg.sample_every == 0 or step == total):
                _write_samples(model, samples, model_dir, step, writer)
            if chief and cfg.eval_every and step % cfg.eval_every == 0 and step != total:
                _evaluate(model, builder, config, inception_model, writer, step)
            if step % cfg.checkpoint_every == 0 or step == total:
                save(step)
    except KeyboardInterrupt:
        done = int(model.step.numpy())
        if done > start and manager.latest_checkpoint != os.path.join(save_dir, f"ckpt-{done}"):
            save(done)
        print(f"\nInterrupted: saved step {done}; the same command resumes.", flush=True)
        raise
    finally:
        interrupt.restore()
    if not chief:
        tf.io.gfile.rmtree(save_dir)

    results = {}
    if chief and total > start:
        results = _evaluate(model, builder, config, inception_model, writer, total)
        run_dir.write_json(os.path.join(model_dir, run_dir.EVAL_FILE), {"step": total, **results})
        print("Held-out evaluation:", json.dumps(results, indent=1), flush=True)
    writer.flush()
    return {"step": int(model.step.numpy()), "losses": losses, "eval": results, "model": model}
