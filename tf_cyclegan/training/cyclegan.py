"""The CycleGAN training state and its distributed train step.

Naming (paper mapping in the package docstring): ``generator_a2b`` (G), ``generator_b2a``
(F), ``discriminator_a`` (D_X, judges domain-A images), ``discriminator_b`` (D_Y).
The attribute names are checkpoint keys, an API that export restores from.
"""

import keras
import tensorflow as tf

from tf_cyclegan.networks import models
from tf_cyclegan.training import distribute, image_pool, losses, schedules, summaries


class CycleGAN(tf.Module):
    """Owns the four networks, both Adam optimizers, the image pools and the step counter.

    Create it once; it enters ``strategy.scope()`` itself. Call ``train_step`` with an
    iterator over a distributed dataset of ``{"a": images_a, "b": images_b}`` batches,
    each float32 [per_replica_batch, crop, crop, channels of its domain] in [-1, 1].

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
        # One network call for two batches (losses.call_pair) is exact unless batch norm.
        self._concat_batches = config.model.norm != "batch"
        seed = config.train.seed
        crop = config.data.crop_size
        with self.strategy.scope(), distribute.dtype_policy(config.train.mixed_precision):
            model = config.model
            self.generator_a2b = models.build_generator(
                model, 4 * seed + 1, "generator_a2b", direction="a2b"
            )
            self.generator_b2a = models.build_generator(
                model, 4 * seed + 2, "generator_b2a", direction="b2a"
            )
            self.discriminator_a = models.build_discriminator(
                model, 4 * seed + 3, "discriminator_a", domain="a"
            )
            self.discriminator_b = models.build_discriminator(
                model, 4 * seed + 4, "discriminator_b", domain="b"
            )
            self.generator_optimizer = self._adam(steps_per_epoch)
            self.discriminator_optimizer = self._adam(steps_per_epoch)
            self.step = step_counter()
            pool = config.loss.pool_size
            shape_a, shape_b = ((crop, crop, model.channels(d)) for d in "ab")
            self.pool_a = image_pool.ImagePool(pool, shape_a, replicas, seed, name="pool_a")
            self.pool_b = image_pool.ImagePool(pool, shape_b, replicas, seed + 1, "pool_b")
            # Keras 3 creates optimizer slots lazily; under a strategy (and before a restore)
            # they must exist up front.
            self.generator_optimizer.build(self.generator_variables)
            self.discriminator_optimizer.build(self.discriminator_variables)
        # XLA: the gradient computations, compiled once per replica; the all-reduce and the
        # updates stay outside XLA.
        self._compiled = distribute.PerReplicaFunctions(
            (self._generator_gradients, self._discriminator_gradients), config.train.jit_compile
        )
        self.train_step = tf.function(self._train_step)

    def _adam(self, steps_per_epoch):
        return make_adam(self.config, steps_per_epoch)

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
        return replicated_step(self.strategy, self._replica_step, iterator, self.step)

    def _average(self, per_example):
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.global_batch_size)

    def _generator_gradients(self, real_a, real_b):
        cfg, concat = self.config.loss, self._concat_batches
        with tf.GradientTape() as tape:
            terms, (fake_a, fake_b) = losses.generator_terms(self, real_a, real_b, cfg, concat)
            total = self._average(tf.add_n(list(terms.values())))
            scaled = self.generator_optimizer.scale_loss(total)
        gradients = tape.gradient(scaled, self.generator_variables)
        return gradients, terms, total, fake_a, fake_b

    def _discriminator_gradients(self, real_a, real_b, pooled_a, pooled_b):
        cfg, concat = self.config.loss, self._concat_batches
        with tf.GradientTape() as tape:
            terms = {}
            for domain, disc, real, fake in (
                ("a", self.discriminator_a, real_a, pooled_a),
                ("b", self.discriminator_b, real_b, pooled_b),
            ):
                seed = tf.stack([self.step, tf.constant(ord(domain), tf.int64)])
                terms.update(
                    losses.discriminator_terms(disc, domain, real, fake, cfg, seed, concat)
                )
            total = self._average(tf.add_n(list(terms.values())))
            scaled = self.discriminator_optimizer.scale_loss(total)
        return tape.gradient(scaled, self.discriminator_variables), terms, total

    def _replica_step(self, batch):
        real_a, real_b = batch["a"], batch["b"]
        generator_fn, discriminator_fn = self._compiled.get()
        g_grads, g, g_loss, fake_a, fake_b = generator_fn(real_a, real_b)
        pooled_a = self.pool_a.query(fake_a, self.step)
        pooled_b = self.pool_b.query(fake_b, self.step)
        d_grads, d, d_loss = discriminator_fn(real_a, real_b, pooled_a, pooled_b)
        distribute.apply_gradients(self.generator_optimizer, g_grads, self.generator_variables)
        distribute.apply_gradients(
            self.discriminator_optimizer, d_grads, self.discriminator_variables
        )
        metrics = {name: self._average(value) for name, value in {**g, **d}.items()}
        metrics[losses.GENERATORS_TOTAL] = g_loss
        metrics[losses.DISCRIMINATORS_TOTAL] = d_loss
        return metrics

    @property
    def directions(self):
        """The directions the model translates: both."""
        return ("a2b", "b2a")

    def sample_grids(self, samples_a, samples_b):
        """{"a2b": real A | fake B | reconstructed A, "b2a": ...}, uint8 grids."""
        return summaries.sample_grids(self, samples_a, samples_b)

    def evaluation_extras(self, builder, size):
        """Metrics beyond ``evaluate_lib.evaluate``'s: none for a CycleGAN."""
        del builder, size
        return {}

    def translate(self, images, direction):
        """Translates float32 [batch, h, w, 3] images in [-1, 1]; direction 'a2b' or 'b2a'."""
        if direction not in ("a2b", "b2a"):
            raise ValueError(f"unknown direction {direction!r}; expected 'a2b' or 'b2a'")
        network = self.generator_a2b if direction == "a2b" else self.generator_b2a
        return network(images, training=False)


def make_adam(config, steps_per_epoch):
    """Adam on the ``config.optim`` schedule; with a dynamic loss scale for float16."""
    optim = config.optim
    schedule = schedules.CycleGANSchedule(
        optim.lr,
        optim.lr_policy,
        steps_per_epoch,
        optim.epochs,
        optim.epochs_decay,
        optim.lr_decay_epochs,
    )
    adam = keras.optimizers.Adam(schedule, beta_1=optim.beta1, beta_2=optim.beta2)
    if config.train.mixed_precision == "float16":
        # float16 gradients underflow without a dynamic loss scale; bfloat16 has the range.
        return keras.optimizers.LossScaleOptimizer(adam)
    return adam


def step_counter():
    """The iteration counter of a training state: int64, one value for all replicas."""
    return tf.Variable(
        0,
        dtype=tf.int64,
        trainable=False,
        name="step",
        aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
    )


def replicated_step(strategy, replica_step, iterator, step):
    """Runs ``replica_step`` on the next batch on every replica and counts the step.

    Returns:
        {name: float32 sum over replicas} of what ``replica_step`` returns (per-replica
        shares of global means, so the sums are the global means).
    """
    per_replica = strategy.run(replica_step, args=(next(iterator),))
    step.assign_add(1)
    sum_ = tf.distribute.ReduceOp.SUM
    return {k: strategy.reduce(sum_, v, axis=None) for k, v in per_replica.items()}
