"""The CycleGAN training state and its distributed train step.

Naming (paper mapping in the package docstring): ``generator_a2b`` (G), ``generator_b2a``
(F), ``discriminator_a`` (D_X, judges domain-A images), ``discriminator_b`` (D_Y).
The attribute names are checkpoint keys, an API that export restores from.
"""

import contextlib

import keras
import tensorflow as tf

from tf_cyclegan import config as config_lib
from tf_cyclegan import image_pool, losses, models, schedules

LOSS_NAMES = (
    "generator/adversarial_a2b",
    "generator/adversarial_b2a",
    "generator/cycle_a",
    "generator/cycle_b",
    "generator/identity_a",
    "generator/identity_b",
    "generator/total",
    "discriminator_a/real",
    "discriminator_a/fake",
    "discriminator_b/real",
    "discriminator_b/fake",
    "discriminator/total",
)


MIXED_PRECISION = config_lib.MIXED_PRECISION


@contextlib.contextmanager
def _dtype_policy(mixed_precision):
    """Builds layers under a mixed policy without leaving it set for anyone else."""
    if mixed_precision not in MIXED_PRECISION:
        raise ValueError(
            f"unknown mixed_precision {mixed_precision!r}; expected one of {MIXED_PRECISION}"
        )
    previous = keras.mixed_precision.global_policy()
    if mixed_precision:
        keras.mixed_precision.set_global_policy(f"mixed_{mixed_precision}")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


class CycleGAN(tf.Module):
    """Owns the four networks, both Adam optimizers, the image pools and the step counter.

    Create it once; it enters ``strategy.scope()`` itself. Call ``train_step`` with an
    iterator over a distributed dataset of ``{"a": images_a, "b": images_b}`` batches,
    each float32 [per_replica_batch, crop, crop, 3] in [-1, 1].

    Args:
        config: a ``config.Config``.
        steps_per_epoch: iterations per epoch, for the learning-rate schedule.
        strategy: a ``tf.distribute.Strategy``; the current one by default.
    """

    def __init__(self, config, steps_per_epoch, strategy=None):
        super().__init__(name="cyclegan")
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        replicas = self.strategy.num_replicas_in_sync
        self.global_batch_size = config.data.batch_size * replicas
        # Concatenating batches through one network call keeps the convolutions larger;
        # it is exact only when the norm never mixes images.
        self._concat_batches = config.model.norm != "batch"
        seed = config.train.seed
        crop = config.data.crop_size
        with self.strategy.scope(), _dtype_policy(config.train.mixed_precision):
            model = config.model
            self.generator_a2b = models.build_generator(model, 4 * seed + 1, "generator_a2b")
            self.generator_b2a = models.build_generator(model, 4 * seed + 2, "generator_b2a")
            self.discriminator_a = models.build_discriminator(
                model, 4 * seed + 3, "discriminator_a"
            )
            self.discriminator_b = models.build_discriminator(
                model, 4 * seed + 4, "discriminator_b"
            )
            self.generator_optimizer = self._adam(steps_per_epoch)
            self.discriminator_optimizer = self._adam(steps_per_epoch)
            self.step = tf.Variable(
                0,
                dtype=tf.int64,
                trainable=False,
                name="step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
            pool = config.loss.pool_size
            self.pool_a = image_pool.ImagePool(pool, (crop, crop, 3), replicas, seed, name="pool_a")
            self.pool_b = image_pool.ImagePool(pool, (crop, crop, 3), replicas, seed + 1, "pool_b")
            # Keras 3 creates optimizer slots lazily; under a strategy (and before a restore)
            # they must exist up front.
            self.generator_optimizer.build(self.generator_variables)
            self.discriminator_optimizer.build(self.discriminator_variables)
        replica_step = self._replica_step
        if config.train.jit_compile:
            replica_step = tf.function(replica_step, jit_compile=True)
        self._replica_fn = replica_step
        self.train_step = tf.function(self._train_step)

    def _adam(self, steps_per_epoch):
        optim = self.config.optim
        schedule = schedules.CycleGANSchedule(
            optim.lr,
            optim.lr_policy,
            steps_per_epoch,
            optim.epochs,
            optim.epochs_decay,
            optim.lr_decay_epochs,
        )
        adam = keras.optimizers.Adam(schedule, beta_1=optim.beta1, beta_2=optim.beta2)
        if self.config.train.mixed_precision == "float16":
            # float16 gradients underflow without a dynamic loss scale; bfloat16 has the range.
            return keras.optimizers.LossScaleOptimizer(adam)
        return adam

    @property
    def generator_variables(self):
        return self.generator_a2b.trainable_variables + self.generator_b2a.trainable_variables

    @property
    def discriminator_variables(self):
        return self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables

    @property
    def learning_rate(self):
        """float32 scalar, the generators' current learning rate."""
        optimizer = self.generator_optimizer
        return optimizer.learning_rate

    def _train_step(self, iterator):
        """One iteration on all replicas. Returns {loss name: float32 global mean}."""
        per_replica = self.strategy.run(self._replica_fn, args=(next(iterator),))
        self.step.assign_add(1)
        sum_ = tf.distribute.ReduceOp.SUM
        return {k: self.strategy.reduce(sum_, v, axis=None) for k, v in per_replica.items()}

    def _twice(self, network, x, y):
        """Returns network(x), network(y), in one call where that is exact."""
        if not self._concat_batches:
            return network(x, training=True), network(y, training=True)
        out = network(tf.concat([x, y], axis=0), training=True)
        return out[: tf.shape(x)[0]], out[tf.shape(x)[0] :]

    def _replica_step(self, batch):
        real_a, real_b = batch["a"], batch["b"]
        cfg = self.config.loss
        average = lambda x: tf.nn.compute_average_loss(  # noqa: E731
            x, global_batch_size=self.global_batch_size
        )
        use_identity = cfg.lambda_identity > 0
        with tf.GradientTape() as tape:
            if use_identity:
                fake_b, idt_b = self._twice(self.generator_a2b, real_a, real_b)
                fake_a, idt_a = self._twice(self.generator_b2a, real_b, real_a)
            else:
                fake_b = self.generator_a2b(real_a, training=True)
                fake_a = self.generator_b2a(real_b, training=True)
            rec_a = self.generator_b2a(fake_b, training=True)
            rec_b = self.generator_a2b(fake_a, training=True)
            g = {
                "generator/adversarial_a2b": losses.gan_loss(
                    self.discriminator_b(fake_b, training=True), True, cfg.gan_mode
                ),
                "generator/adversarial_b2a": losses.gan_loss(
                    self.discriminator_a(fake_a, training=True), True, cfg.gan_mode
                ),
                "generator/cycle_a": cfg.lambda_a * losses.l1_loss(rec_a, real_a),
                "generator/cycle_b": cfg.lambda_b * losses.l1_loss(rec_b, real_b),
            }
            if use_identity:
                g["generator/identity_a"] = (
                    cfg.lambda_a * cfg.lambda_identity * losses.l1_loss(idt_a, real_a)
                )
                g["generator/identity_b"] = (
                    cfg.lambda_b * cfg.lambda_identity * losses.l1_loss(idt_b, real_b)
                )
            g_loss = average(tf.add_n(list(g.values())))
            g_scaled = self.generator_optimizer.scale_loss(g_loss)
        g_grads = tape.gradient(g_scaled, self.generator_variables)

        pooled_a = self.pool_a.query(fake_a, self.step)
        pooled_b = self.pool_b.query(fake_b, self.step)
        with tf.GradientTape() as tape:
            d = {}
            for domain, disc, real, fake in (
                ("a", self.discriminator_a, real_a, pooled_a),
                ("b", self.discriminator_b, real_b, pooled_b),
            ):
                logits_real, logits_fake = self._twice(disc, real, fake)
                d[f"discriminator_{domain}/real"] = 0.5 * losses.gan_loss(
                    logits_real, True, cfg.gan_mode
                )
                d[f"discriminator_{domain}/fake"] = 0.5 * losses.gan_loss(
                    logits_fake, False, cfg.gan_mode
                )
                if cfg.gan_mode == "wgangp":
                    seed = tf.stack([self.step, tf.constant(ord(domain), tf.int64)])
                    penalty = losses.gradient_penalty(disc, real, fake, seed)
                    d[f"discriminator_{domain}/gradient_penalty"] = cfg.lambda_gp * penalty
            d_loss = average(tf.add_n(list(d.values())))
            d_scaled = self.discriminator_optimizer.scale_loss(d_loss)
        d_grads = tape.gradient(d_scaled, self.discriminator_variables)

        self.generator_optimizer.apply_gradients(zip(g_grads, self.generator_variables))
        self.discriminator_optimizer.apply_gradients(zip(d_grads, self.discriminator_variables))
        metrics = {name: average(value) for name, value in {**g, **d}.items()}
        metrics["generator/total"] = g_loss
        metrics["discriminator/total"] = d_loss
        return metrics

    def translate(self, images, direction):
        """Translates float32 [batch, h, w, 3] images in [-1, 1]; direction 'a2b' or 'b2a'."""
        if direction not in ("a2b", "b2a"):
            raise ValueError(f"unknown direction {direction!r}; expected 'a2b' or 'b2a'")
        network = self.generator_a2b if direction == "a2b" else self.generator_b2a
        return network(images, training=False)
