"""The training loop: checkpoints, exact resume, TensorBoard and samples. Reads no flags."""

import dataclasses
import json
import os
import time

import keras
import tensorflow as tf

from tf_cyclegan import config as config_lib
from tf_cyclegan import cyclegan, data, distribute, evaluation, summaries

# Parts of the config that must not change when a run resumes (the train part may).
_FIXED_PARTS = ("model", "loss", "optim", "data")


def _check_resumable(config, model_dir):
    """Refuses to continue a run whose networks or data were configured differently."""
    try:
        previous = config_lib.load(model_dir)
    except FileNotFoundError:
        return
    for part in _FIXED_PARTS:
        old, new = (
            dataclasses.asdict(getattr(previous, part)),
            dataclasses.asdict(getattr(config, part)),
        )
        changed = {k: (old[k], new[k]) for k in new if old.get(k) != new[k]}
        if changed:
            raise ValueError(
                f"{model_dir} holds a run with different {part} options {changed} "
                "(old, new); use a new --model_dir or the run's original options"
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
        short = {k.replace("generator/", "G/").replace("discriminator", "D"): v
                 for k, v in losses.items()}  # fmt: skip
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
            summaries.write_png(image, os.path.join(model_dir, "samples", name))


def _evaluate(model, builder, config, inception_model, writer, step):
    results = evaluation.evaluate(model.translate, builder, config.data.crop_size, inception_model)
    with writer.as_default(step=step):
        for name, value in results.items():
            tf.summary.scalar(f"eval/{name}", value)
    return results


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
    cfg, model_dir = config.train, config.train.model_dir
    chief = distribute.is_chief(strategy)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(cfg.seed)
    _check_resumable(config, model_dir)
    if chief:
        config_lib.save(config, model_dir)

    builder = data.get_builder(config.data.dataset, config.data.data_dir)
    global_batch = config.data.batch_size * strategy.num_replicas_in_sync
    spe = data.steps_per_epoch(builder, config.data, global_batch)
    model = cyclegan.CycleGAN(config, spe, strategy)
    checkpoint = tf.train.Checkpoint(model=model)
    # Every task restores the chief's latest checkpoint; each saves (a collective) to its own.
    save_dir = distribute.checkpoint_dir(strategy, model_dir)
    manager = tf.train.CheckpointManager(checkpoint, save_dir, max_to_keep=cfg.max_to_keep)
    latest = tf.train.latest_checkpoint(model_dir)
    if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
        print(f"Resumed from {latest} at step {int(model.step.numpy())}", flush=True)
    start = int(model.step.numpy())
    total = cfg.train_steps if cfg.train_steps is not None else (
        (config.optim.epochs + config.optim.epochs_decay) * spe
    )  # fmt: skip

    if chief:
        writer = tf.summary.create_file_writer(os.path.join(model_dir, "train"))
    else:
        writer = tf.summary.create_noop_writer()
    size = config.data.crop_size
    samples = tuple(data.sample_images(builder, s, config.data.num_samples, size)
                    for s in ("testA", "testB"))  # fmt: skip
    with writer.as_default(step=start):
        tf.summary.text("config", f"```\n{config.to_json()}\n```")
    dataset = strategy.distribute_datasets_from_function(
        lambda ctx: data.train_dataset(builder, config.data, cfg.seed, global_batch, start, ctx)
    )
    iterator = iter(dataset)
    inception_model = None
    if chief and cfg.inception_weights:
        from tf_cyclegan import inception

        inception_model = inception.load(cfg.inception_weights)
    progress = _Progress(total, spe, global_batch, start)
    losses = {}
    for step in range(start + 1, total + 1):
        outputs = model.train_step(iterator)
        if step % cfg.log_every == 0 or step == total or step % cfg.summary_every == 0:
            losses = {k: float(v) for k, v in outputs.items()}
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
            manager.save(checkpoint_number=step)
    if not chief:
        tf.io.gfile.rmtree(save_dir)

    results = {}
    if chief and total > start:
        results = _evaluate(model, builder, config, inception_model, writer, total)
        with tf.io.gfile.GFile(os.path.join(model_dir, "eval.json"), "w") as f:
            json.dump({"step": total, **results}, f, indent=2)
        print("Held-out evaluation:", json.dumps(results, indent=1), flush=True)
    writer.flush()
    return {"step": int(model.step.numpy()), "losses": losses, "eval": results, "model": model}
