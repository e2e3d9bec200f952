"""The training loop: checkpoints, exact resume, TensorBoard and samples. Reads no flags."""

import contextlib
import dataclasses
import json
import os

import keras
import numpy as np
import tensorflow as tf

from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import (
    config_checks,
    conventions,
    errors,
    interrupts,
    run_dir,
    run_lock,
    writable,
)
from tf_cyclegan.data import pipeline, sources
from tf_cyclegan.evaluation import evaluate_lib, inception
from tf_cyclegan.networks import conv_paths, restore
from tf_cyclegan.training import best as best_lib
from tf_cyclegan.training import cut, cyclegan, distribute, state, summaries
from tf_cyclegan.training import progress as progress_lib


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


def _write_samples(model, samples, model_dir, step, writer):
    grids = model.sample_grids(*samples)
    with writer.as_default(step=step):
        for direction, image in grids.items():
            tf.summary.image(f"samples/{direction}", image, max_outputs=1)
            name = f"step_{step:08d}_{direction}.png"
            summaries.write_png(image, os.path.join(model_dir, run_dir.SAMPLES, name))


def _evaluate(run, step):
    """Evaluates the test splits at ``step``: TensorBoard, and the best checkpoint."""
    results = _evaluate_model(
        run.model, run.builder, run.config, run.inception_model, run.writer, step
    )
    if run.best.update(results, step):
        print(f"Best {run.best.metric(results)} so far at step {step}: kept in best/", flush=True)
    return results


def _evaluate_model(model, builder, config, inception_model, writer, step):
    channels = (config.model.input_nc, config.model.output_nc)
    size = config.data.crop_size
    results = evaluate_lib.evaluate(
        model.translate,
        builder,
        size,
        inception_model,
        model.directions,
        channels,
        max_images=config.train.eval_images,
        reference_cache=os.path.join(config.train.model_dir, run_dir.FID_REFERENCE),
    )
    results.update(model.evaluation_extras(builder, size))
    with writer.as_default(step=step):
        for name, value in results.items():
            tf.summary.scalar(f"eval/{name}", value)
    return results


# The training state of each --model family.
FAMILIES = {"cyclegan": cyclegan.CycleGAN, "cut": cut.CUT, "fastcut": cut.CUT}


def train(config, strategy=None, build_model=None):
    """Trains (or resumes) the run that ``config`` describes.

    Args:
        config: a ``config.Config``.
        strategy: a ``tf.distribute.Strategy``; the current one by default.
        build_model: (config, steps_per_epoch, strategy) -> the training state: a
            ``state.TrainingState``; by default the one of ``config.model.family``
            (``FAMILIES``); ``distill`` passes its ``Distiller``.

    Returns:
        dict with "step", the final "losses", "eval" (ground-truth errors where known) and
        "model", the trained model.
    """
    config_checks.validate(config)
    build_model = build_model or FAMILIES[config.model.family]
    strategy = strategy or tf.distribute.get_strategy()
    config = dataclasses.replace(
        config,
        train=dataclasses.replace(config.train, num_replicas=strategy.num_replicas_in_sync),
    )
    chief = distribute.is_chief(strategy)
    if chief:
        writable.require_folder(config.train.model_dir, "model_dir")
    # One trainer per run directory; non-chief workers write only their scratch dirs.
    held = run_lock.lock(config.train.model_dir) if chief else contextlib.nullcontext()
    with held:
        return _train_locked(config, strategy, chief, build_model)


@dataclasses.dataclass
class _Run:
    """Everything a training run holds once set up."""

    config: config_lib.Config
    chief: bool
    builder: object
    model: state.TrainingState  # A CycleGAN, a CUT or a distiller.Distiller.
    checkpoint: tf.train.Checkpoint
    manager: tf.train.CheckpointManager
    save_dir: str
    start: int
    total: int
    iterator: object
    samples: tuple
    inception_model: object
    writer: object
    progress: progress_lib.Progress
    best: best_lib.BestCheckpoint | None


def _setup(config, strategy, chief, build_model):
    """Builds the model, restores the newest good checkpoint and opens the input and logs."""
    cfg, model_dir = config.train, config.train.model_dir
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    conv_paths.configure(cfg.conv_gradients)
    keras.utils.set_random_seed(cfg.seed)
    config, why = config_checks.resolve_precision(config, model_dir)
    if chief:
        print(f"Precision: {config.train.mixed_precision}" + (f" ({why})" if why else ""))
    config_checks.check_resumable(config, model_dir)
    if chief:
        run_dir.remove_killed_saves(model_dir)

    builder = sources.get_builder(config.data.dataset, config.data.data_dir)
    global_batch = config.data.batch_size * strategy.num_replicas_in_sync
    spe = sources.steps_per_epoch(builder, config.data, global_batch)
    model = build_model(config, spe, strategy)
    checkpoint = run_dir.checkpoint_tree(model)
    # Every task restores the chief's newest checkpoint that restores; each saves (a
    # collective) to its own directory.
    save_dir = distribute.checkpoint_dir(strategy, model_dir)
    run_dir.repair_state(save_dir)  # The manager reads the state file first.
    manager = tf.train.CheckpointManager(
        checkpoint, save_dir, max_to_keep=cfg.max_to_keep, checkpoint_name=run_dir.CHECKPOINT_PREFIX
    )

    def restore_finite(prefix):
        checkpoint.restore(prefix).assert_existing_objects_matched()
        bad = _nonfinite_variables(model)
        if bad:  # Resuming it would fail a step later.
            raise run_dir.UnusableCheckpoint(f"it holds non-finite weights ({bad[0]})")

    latest = run_dir.restore_newest(restore_finite, model_dir)
    if latest:
        print(f"Resumed from {latest} at step {int(model.step.numpy())}", flush=True)
    elif cfg.init_from:
        networks = model.initializable_networks()
        if not networks:
            raise errors.ConfigError("--init_from starts a train run; distill takes --teacher")
        source, loaded = restore.initialize_from(networks, cfg.init_from)
        print(f"Started from {source}: {', '.join(loaded)}", flush=True)
    start = int(model.step.numpy())
    epochs = config.optim.epochs + config.optim.epochs_decay
    total = cfg.train_steps if cfg.train_steps is not None else epochs * spe

    channels = (config.model.input_nc, config.model.output_nc)
    count, size = config.data.num_samples, config.data.crop_size
    samples = tuple(
        pipeline.sample_images(builder, split, count, size, ch)
        for split, ch in zip(conventions.TEST_SPLITS, channels)
    )
    dataset = strategy.distribute_datasets_from_function(
        lambda ctx: pipeline.train_dataset(
            builder, config.data, cfg.seed, global_batch, start, ctx, channels
        )
    )
    inception_model = None
    if chief and cfg.inception_weights:
        inception_model = inception.load(cfg.inception_weights)
    # Everything the run needs exists: from here on the directory describes a real run.
    if chief:
        config_lib.save(config, model_dir)
        writer = tf.summary.create_file_writer(os.path.join(model_dir, run_dir.TRAIN_LOGS))
    else:
        writer = tf.summary.create_noop_writer()
    with writer.as_default(step=start):
        tf.summary.text("config", f"```\n{config.to_json()}\n```")
    return _Run(
        config=config,
        chief=chief,
        builder=builder,
        model=model,
        checkpoint=checkpoint,
        manager=manager,
        save_dir=save_dir,
        start=start,
        total=total,
        iterator=iter(dataset),
        samples=samples,
        inception_model=inception_model,
        writer=writer,
        progress=progress_lib.Progress(
            total, spe, global_batch, start, live=None if chief else False
        ),
        best=best_lib.BestCheckpoint(config, best_lib.generators_of(model)) if chief else None,
    )


@dataclasses.dataclass(frozen=True)
class _Periodic:
    """An action of the loop: every ``every`` steps (never when 0 or None), and at the last
    step when ``at_end``; ``chief_only`` actions skip the other workers."""

    name: str
    every: int | None
    act: object  # (run, step, losses) -> None
    at_end: bool = True
    chief_only: bool = False
    reads_losses: bool = False

    def due(self, step, total, chief):
        if self.chief_only and not chief:
            return False
        return bool(self.every and step % self.every == 0) or (self.at_end and step == total)


def _log(run, step, losses):
    run.progress.update(step, losses)


def _summarize(run, step, losses):
    with run.writer.as_default(step=step):
        for name, value in losses.items():
            tf.summary.scalar(f"losses/{name}", value)
        tf.summary.scalar("learning_rate", float(run.model.learning_rate))
        tf.summary.scalar("images_per_second", run.progress.images_per_second)


def _sample(run, step, losses):
    _write_samples(run.model, run.samples, run.config.train.model_dir, step, run.writer)


def _evaluate_periodically(run, step, losses):
    if step != run.total:  # The final evaluation follows the loop.
        _evaluate(run, step)


def _save(run, step, losses=None):
    bad = _nonfinite_variables(run.model)
    if bad:
        raise _diverged(step, f"weights {bad[:3]}", run.manager, run.config)
    run.manager.save(checkpoint_number=step)
    run.progress.checkpoint(step)


def _periodic_actions(train_config):
    """What the loop does besides stepping, in order; the checkpoint comes last."""
    cfg = train_config
    return (
        _Periodic("bar", 1, lambda run, step, _: run.progress.tick(step), chief_only=True),
        _Periodic("log", cfg.log_every, _log, chief_only=True, reads_losses=True),
        _Periodic("summary", cfg.summary_every, _summarize, reads_losses=True),
        _Periodic("samples", cfg.sample_every, _sample, chief_only=True),
        _Periodic("eval", cfg.eval_every, _evaluate_periodically, at_end=False, chief_only=True),
        _Periodic("checkpoint", cfg.checkpoint_every, _save),  # A collective: every worker.
    )


def _read_losses(run, step, outputs):
    """Fetches the step's losses (a host sync, so only when an action reads them)."""
    losses = {k: float(v) for k, v in outputs.items()}
    if not np.all(np.isfinite(list(losses.values()))):
        raise _diverged(step, "the losses are", run.manager, run.config)
    return losses


def _train_locked(config, strategy, chief, build_model):
    run = _setup(config, strategy, chief, build_model)
    actions, losses = _periodic_actions(config.train), {}
    # Under multi-worker a signal reaches one worker: all agree after each step to stop.
    multi_worker = distribute.is_multi_worker(strategy)
    interrupt = interrupts.DeferredInterrupt(honour_in_work=not multi_worker)
    agree = distribute.StopAgreement(strategy) if multi_worker else None
    try:
        for step in range(run.start + 1, run.total + 1):
            if not multi_worker:
                interrupt.check()
            outputs = run.model.train_step(run.iterator)
            due = [a for a in actions if a.due(step, run.total, chief)]
            # Checkpoints need no loss read: _save checks the weights, so no non-finite
            # state is ever saved.
            if any(a.reads_losses for a in due):
                losses = _read_losses(run, step, outputs)
            for action in due:
                action.act(run, step, losses)
            if multi_worker and agree(interrupt.requested is not None):
                interrupt.check()
                raise interrupts.Terminated("another worker of the cluster was stopped")
    except tf.errors.OpError as e:
        # A collective fails on every surviving task when one task dies.
        if not distribute.is_multi_worker(strategy):
            raise
        raise distribute.lost_task(e, config.train.model_dir) from None
    except KeyboardInterrupt:
        done = int(run.model.step.numpy())
        newest = run_dir.checkpoint_path(run.save_dir, done)
        if done > run.start and run.manager.latest_checkpoint != newest:
            _save(run, done)
        run.progress.close()
        again = "on every worker " if multi_worker else ""
        print(f"\nInterrupted: saved step {done}; the same command {again}resumes.", flush=True)
        raise
    finally:
        run.progress.close()
        interrupt.restore()
    return _finish(run, losses)


def _finish(run, losses):
    """Removes a worker's scratch checkpoints; the chief evaluates the held-out images."""
    if not run.chief:
        tf.io.gfile.rmtree(run.save_dir)
    results = {}
    if run.chief and run.total > run.start:
        results = _evaluate(run, run.total)
        out = os.path.join(run.config.train.model_dir, run_dir.EVAL_FILE)
        run_dir.write_json(out, {"step": run.total, **results})
        print("Held-out evaluation:", json.dumps(results, indent=1), flush=True)
    run.writer.flush()
    step = int(run.model.step.numpy())
    return {"step": step, "losses": losses, "eval": results, "model": run.model}
