"""The CycleGAN training state and its distributed train step.

Naming (paper mapping in the package docstring): ``generator_a2b`` (G), ``generator_b2a``
(F), ``discriminator_a`` (D_X, judges domain-A images), ``discriminator_b`` (D_Y).
The attribute names are checkpoint keys, an API that export restores from.
"""

import tensorflow as tf

from tf_cyclegan.common import conventions
from tf_cyclegan.networks import models
from tf_cyclegan.training import distribute, image_pool, losses, state, summaries


class CycleGAN(state.TrainingState):
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
        super().__init__("cyclegan", config, steps_per_epoch, strategy)
        # One network call for two batches (losses.call_pair) is exact unless batch norm.
        self._concat_batches = config.model.norm != "batch"
        seed, crop, model = config.train.seed, config.data.crop_size, config.model
        replicas = self.strategy.num_replicas_in_sync
        with self.strategy.scope(), self.dtype_policy():
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
            pool = config.loss.pool_size
            shape_a, shape_b = ((crop, crop, model.channels(d)) for d in conventions.DOMAINS)
            self.pool_a = image_pool.ImagePool(pool, shape_a, replicas, seed, name="pool_a")
            self.pool_b = image_pool.ImagePool(pool, shape_b, replicas, seed + 1, "pool_b")
        self.finish_setup()

    def initializable_networks(self):
        names = ("generator_a2b", "generator_b2a", "discriminator_a", "discriminator_b")
        return {name: getattr(self, name) for name in names}

    @property
    def generator_variables(self):
        return self.generator_a2b.trainable_variables + self.generator_b2a.trainable_variables

    @property
    def discriminator_variables(self):
        return self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables

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

    def sample_grids(self, samples_a, samples_b):
        """{"a2b": real A | fake B | reconstructed A, "b2a": ...}, uint8 grids."""
        return summaries.sample_grids(self, samples_a, samples_b)

    def translate(self, images, direction):
        """float32 [batch, h, w, c_source] in [-1, 1] -> [batch, h, w, c_target]; "a2b" or "b2a"."""
        if direction not in conventions.DIRECTIONS:
            raise ValueError(f"unknown direction {direction!r}; expected 'a2b' or 'b2a'")
        network = self.generator_a2b if direction == "a2b" else self.generator_b2a
        return network(images, training=False)
