"""The CUT and FastCUT training state (Park et al. 2020): one generator, one discriminator.

``generator_a2b`` translates A to B; ``discriminator_b`` judges B images; the
``projection_head`` (the official ``netF``) maps the generator's encoder features of sampled
patches to the space where PatchNCE compares them (``patchnce.py``). The attribute names are
checkpoint keys. The iteration follows the official ``CUTModel.optimize_parameters``:

1. the discriminator's step, on the generator's current output;
2. the generator's and the head's step, judged by the updated discriminator.

One departure, for XLA and the replicated step's structure (gradient computations compiled
per replica, updates outside them): the generator runs forward twice per iteration, once
for step 1 and once under the tape of step 2, instead of keeping one forward's tape across
the discriminator's update. The values are the same; the cost is one forward on the A batch.
"""

import tensorflow as tf

from tf_cyclegan.common import architectures, errors
from tf_cyclegan.networks import models
from tf_cyclegan.training import distribute, losses, patchnce, state, summaries

GENERATOR_TERMS = ("generator_a2b/adversarial", "generator_a2b/nce", "generator_a2b/nce_identity")
DISCRIMINATOR_TERMS = ("discriminator_b/real", "discriminator_b/fake")


def _flip(images, flipped):
    return tf.cond(flipped, lambda: tf.reverse(images, axis=[2]), lambda: images)


class CUT(state.TrainingState):
    """CUT (``--model=cut``) or FastCUT (``--model=fastcut``): the family's options are in
    ``config.loss`` (``lambda_nce``, ``nce_idt``, ``flip_equivariance``, ...).

    Args:
        config: a ``config.Config``.
        steps_per_epoch: iterations per epoch, for the learning-rate schedule.
        strategy: a ``tf.distribute.Strategy``; the current one by default.
    """

    def __init__(self, config, steps_per_epoch, strategy=None):
        super().__init__("cut", config, steps_per_epoch, strategy)
        model, loss, seed = config.model, config.loss, config.train.seed
        architecture = architectures.get(model.generator)
        if architecture.family != "resnet":
            raise errors.ConfigError(
                f"--model={model.family} needs a ResNet generator (its encoder features); "
                f"--generator={model.generator} is a {architecture.family} one"
            )
        names = patchnce.encoder_layer_names(architecture.depth, model.antialias)
        wrong = [i for i in loss.nce_layer_indices if not 0 <= i < len(names)]
        if wrong or not loss.nce_layer_indices:
            raise errors.ConfigError(
                f"--nce_layers={loss.nce_layers}: each must be a layer index 0..{len(names) - 1}"
            )
        tapped = [names[i] for i in loss.nce_layer_indices]
        with self.strategy.scope(), self.dtype_policy():
            self.generator_a2b = models.build_generator(
                model, 4 * seed + 1, "generator_a2b", direction="a2b"
            )
            self.discriminator_b = models.build_discriminator(
                model, 4 * seed + 4, "discriminator_b", domain="b"
            )
            channels = [self.generator_a2b.get_layer(n).output.shape[-1] for n in tapped]
            self.projection_head = patchnce.ProjectionHead(
                channels,
                loss.projection_width,
                model.init_type,
                model.init_gain,
                4 * seed + 5,
                name="projection_head",
            )
            encoder = patchnce.encoder(self.generator_a2b, tapped)
        # A function, not an attribute: the encoder shares the generator's weights, which
        # must have one checkpoint key.
        self._encode = lambda images: encoder(images, training=True)
        self.finish_setup()

    @property
    def directions(self):
        return self.config.model.generator_directions

    def initializable_networks(self):
        return {"generator_a2b": self.generator_a2b, "discriminator_b": self.discriminator_b}

    @property
    def generator_variables(self):
        return self.generator_a2b.trainable_variables + self.projection_head.trainable_variables

    @property
    def discriminator_variables(self):
        return self.discriminator_b.trainable_variables

    def _seed(self, salt):
        return tf.stack([self.step, tf.constant(self.config.train.seed * 8 + salt, tf.int64)])

    def _flipped(self):
        """Whether this iteration translates flipped images (flip equivariance)."""
        if not self.config.loss.flip_equivariance:
            return tf.constant(False)
        return tf.random.stateless_uniform([], seed=self._seed(1)) < 0.5

    def _nce(self, sources, translated, flipped, tape):
        """PatchNCE of each group of images (A, then B for the identity term) against its
        translation, the mean over layers: [float32 [batch]] per group.

        Args:
            sources: float32 [groups * batch, h, w, c], the source images of each group.
            translated: their translations, the same shape, on ``tape``.
            flipped: bool scalar: ``translated`` came from flipped sources.
            tape: the generator's tape: the source features stay off it (they carry no
                gradient, as the official code detaches them).
        """
        cfg = self.config.loss
        groups = 2 if cfg.nce_idt else 1
        with tape.stop_recording():
            keys = self._encode(sources)
        queries = [_flip(f, flipped) for f in self._encode(translated)]
        batch = tf.shape(sources)[0] // groups
        sampled_keys, sampled_queries = [], []
        for group in range(groups):
            rows = slice(group * batch, (group + 1) * batch)
            part = [k[rows] for k in keys]
            ids = patchnce.patch_ids(
                part, cfg.num_patches, tf.cast(self._seed(4 + group), tf.int32)
            )
            sampled_keys.append(patchnce.sample(part, ids))
            sampled_queries.append(patchnce.sample([q[rows] for q in queries], ids))
        # One head call for all groups: the MLPs act on each row alone.
        layers = range(len(keys))
        keys = self.projection_head([tf.concat([g[i] for g in sampled_keys], 0) for i in layers])
        queries = self.projection_head(
            [tf.concat([g[i] for g in sampled_queries], 0) for i in layers]
        )
        out = []
        for group in range(groups):
            per_layer = []
            for q, k in zip(queries, keys):
                size = tf.shape(q)[0] // groups
                rows = slice(group * size, (group + 1) * size)
                per_layer.append(patchnce.patch_nce(q[rows], k[rows], batch, cfg.nce_temperature))
            out.append(cfg.lambda_nce * tf.add_n(per_layer) / len(per_layer))
        return out

    def _generator_gradients(self, real_a, real_b, flipped):
        cfg = self.config.loss
        with tf.GradientTape() as tape:
            real = tf.concat([real_a, real_b], 0) if cfg.nce_idt else real_a
            fake = self.generator_a2b(_flip(real, flipped), training=True)
            fake_b = fake[: tf.shape(real_a)[0]]
            logits = self.discriminator_b(fake_b, training=True)
            nce = self._nce(real, fake, flipped, tape)
            terms = {
                GENERATOR_TERMS[0]: cfg.lambda_gan * losses.gan_loss(logits, True, cfg.gan_mode),
                GENERATOR_TERMS[1]: nce[0],
            }
            if cfg.nce_idt:  # The official averages the two NCE terms.
                terms[GENERATOR_TERMS[1]] = 0.5 * nce[0]
                terms[GENERATOR_TERMS[2]] = 0.5 * nce[1]
            total = self._average(tf.add_n(list(terms.values())))
            scaled = self.generator_optimizer.scale_loss(total)
        return tape.gradient(scaled, self.generator_variables), terms, total

    def _discriminator_gradients(self, real_a, real_b, flipped):
        cfg = self.config.loss
        fake_b = tf.stop_gradient(self.generator_a2b(_flip(real_a, flipped), training=True))
        with tf.GradientTape() as tape:
            terms = losses.discriminator_terms(
                self.discriminator_b, "b", real_b, fake_b, cfg, self._seed(3), concat=True
            )
            total = self._average(tf.add_n(list(terms.values())))
            scaled = self.discriminator_optimizer.scale_loss(total)
        return tape.gradient(scaled, self.discriminator_variables), terms, total

    def _replica_step(self, batch):
        real_a, real_b = batch["a"], batch["b"]
        generator_fn, discriminator_fn = self._compiled.get()
        flipped = self._flipped()
        d_grads, d, d_loss = discriminator_fn(real_a, real_b, flipped)
        distribute.apply_gradients(
            self.discriminator_optimizer, d_grads, self.discriminator_variables
        )
        g_grads, g, g_loss = generator_fn(real_a, real_b, flipped)
        distribute.apply_gradients(self.generator_optimizer, g_grads, self.generator_variables)
        metrics = {name: self._average(value) for name, value in {**g, **d}.items()}
        metrics[losses.GENERATORS_TOTAL] = g_loss
        metrics[losses.DISCRIMINATORS_TOTAL] = d_loss
        return metrics

    def sample_grids(self, samples_a, samples_b):
        """{"a2b": real A | fake B, "b2b": real B | its identity translation}, uint8."""
        return {
            "a2b": summaries.grid([samples_a, self.translate(samples_a, "a2b")]),
            "b2b": summaries.grid([samples_b, self.translate(samples_b, "a2b")]),
        }

    def translate(self, images, direction):
        """float32 [batch, h, w, c] in [-1, 1] -> the same, translated A -> B."""
        if direction != "a2b":
            raise ValueError(f"a CUT model translates a2b only, not {direction!r}")
        return self.generator_a2b(images, training=False)
