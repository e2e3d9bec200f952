import types

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.common.config import LossConfig
from tf_cyclegan.training import losses


def _constant(value):
    """A discriminator judging every image ``value`` on a 2x2 patch grid."""
    return keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Lambda(lambda x: x[:, :2, :2, :1] * 0 + value)]
    )


def _map(fn):
    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Lambda(fn)])


class GanLossTest(tf.test.TestCase, parameterized.TestCase):
    logits = tf.constant([[[[0.5], [1.5]]], [[[-1.0], [2.0]]]])  # [2, 1, 2, 1]

    def test_lsgan_is_squared_distance_to_the_label(self):
        self.assertAllClose(
            losses.gan_loss(self.logits, True, "lsgan"), [(0.25 + 0.25) / 2, (4.0 + 1.0) / 2]
        )
        self.assertAllClose(
            losses.gan_loss(self.logits, False, "lsgan"), [(0.25 + 2.25) / 2, (1.0 + 4.0) / 2]
        )

    def test_vanilla_is_binary_cross_entropy_on_logits(self):
        x = self.logits.numpy().reshape(2, 2)
        real = np.log1p(np.exp(-x)).mean(axis=1)
        fake = np.log1p(np.exp(x)).mean(axis=1)
        self.assertAllClose(losses.gan_loss(self.logits, True, "vanilla"), real)
        self.assertAllClose(losses.gan_loss(self.logits, False, "vanilla"), fake)

    def test_wgangp_is_the_signed_critic_mean(self):
        self.assertAllClose(losses.gan_loss(self.logits, True, "wgangp"), [-1.0, -0.5])
        self.assertAllClose(losses.gan_loss(self.logits, False, "wgangp"), [1.0, 0.5])

    def test_unknown_mode_is_named(self):
        with self.assertRaisesRegex(ValueError, "'hinge'.*lsgan"):
            losses.gan_loss(self.logits, True, "hinge")

    def test_l1_is_mean_absolute_error_per_example(self):
        x = tf.constant([[[[1.0, -1.0]]], [[[0.0, 0.5]]]])
        self.assertAllClose(losses.l1_loss(x, tf.zeros_like(x)), [1.0, 0.25])


class GradientPenaltyTest(tf.test.TestCase):
    def test_linear_critic_penalty_is_known(self):
        # D(x) = sum(w * x) has gradient w everywhere, so the penalty is (||w|| - 1)^2.
        w = tf.Variable(tf.fill([1, 4, 4, 3], 0.5))
        critic = lambda x, training=None: tf.reduce_sum(w * x, axis=[1, 2, 3])  # noqa: E731
        real = tf.random.stateless_uniform([2, 4, 4, 3], seed=[1, 2])
        penalty = losses.gradient_penalty(critic, real, -real, seed=[3, 4])
        expected = (np.sqrt(48 * 0.25) - 1.0) ** 2
        self.assertAllClose(penalty, [expected, expected], rtol=1e-5)

    def test_penalty_trains_the_critic(self):
        w = tf.Variable(tf.fill([1, 4, 4, 3], 0.5))
        critic = lambda x, training=None: tf.reduce_sum(w * x, axis=[1, 2, 3])  # noqa: E731
        real = tf.random.stateless_uniform([2, 4, 4, 3], seed=[1, 2])
        with tf.GradientTape() as tape:
            penalty = tf.reduce_sum(losses.gradient_penalty(critic, real, -real, [3, 4]))
        grad = tape.gradient(penalty, w)
        self.assertIsNotNone(grad)
        self.assertAllGreater(grad, 0.0)  # ||w|| > 1, so the penalty shrinks w.


if __name__ == "__main__":
    tf.test.main()


class ObjectiveTest(tf.test.TestCase, parameterized.TestCase):
    """The objective's terms, with plain Keras models: no optimizer, no strategy."""

    real_a = tf.fill([2, 8, 8, 3], 0.5)
    real_b = tf.fill([2, 8, 8, 3], -0.25)

    def _networks(self, a2b=lambda x: x, b2a=lambda x: x):
        return types.SimpleNamespace(
            generator_a2b=_map(a2b),
            generator_b2a=_map(b2a),
            discriminator_a=_constant(0.5),
            discriminator_b=_constant(3.0),
        )

    def test_each_adversarial_term_uses_the_discriminator_of_its_target_domain(self):
        terms, _ = losses.generator_terms(self._networks(), self.real_a, self.real_b, LossConfig())
        self.assertAllClose(terms["generator_a2b/adversarial"], [4.0, 4.0])  # (3 - 1)^2
        self.assertAllClose(terms["generator_b2a/adversarial"], [0.25, 0.25])  # (0.5 - 1)^2

    def test_identity_generators_have_zero_cycle_and_identity_terms(self):
        terms, (fake_a, fake_b) = losses.generator_terms(
            self._networks(), self.real_a, self.real_b, LossConfig()
        )
        self.assertCountEqual(terms, losses.GENERATOR_TERMS)
        for name in ("generators/cycle_a", "generators/cycle_b"):
            self.assertAllEqual(terms[name], [0.0, 0.0])
        self.assertAllEqual(terms["generator_a2b/identity"], [0.0, 0.0])
        self.assertAllEqual(fake_b, self.real_a)
        self.assertAllEqual(fake_a, self.real_b)

    def test_identity_term_is_weighted_by_its_target_domain(self):
        # generator_a2b negates: on a B image, |-b - b| = 0.5, weighted lambda_b * identity.
        config = LossConfig(lambda_a=1.0, lambda_b=4.0, lambda_identity=0.5)
        terms, _ = losses.generator_terms(
            self._networks(a2b=lambda x: -x), self.real_a, self.real_b, config
        )
        self.assertAllClose(terms["generator_a2b/identity"], [4.0 * 0.5 * 0.5] * 2)
        # a -> -a -> -a: |(-0.5) - 0.5| = 1, weighted lambda_a.
        self.assertAllClose(terms["generators/cycle_a"], [1.0, 1.0])
        self.assertAllClose(terms["generator_b2a/identity"], [0.0, 0.0])

    def test_no_identity_terms_with_weight_zero(self):
        config = LossConfig(lambda_identity=0.0)
        terms, _ = losses.generator_terms(self._networks(), self.real_a, self.real_b, config)
        self.assertNotIn("generator_a2b/identity", terms)
        self.assertNotIn("generator_b2a/identity", terms)

    def test_one_call_for_two_batches_changes_nothing(self):
        conv = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(3, 3, padding="same")])
        networks = self._networks()
        networks.generator_a2b = networks.generator_b2a = conv
        together, _ = losses.generator_terms(networks, self.real_a, self.real_b, LossConfig())
        apart, _ = losses.generator_terms(
            networks, self.real_a, self.real_b, LossConfig(), concat=False
        )
        for name in together:
            self.assertAllClose(together[name], apart[name], rtol=1e-6, atol=1e-7)

    @parameterized.parameters("lsgan", "wgangp")
    def test_discriminator_judges_real_as_real_and_fake_as_fake(self, gan_mode):
        config = LossConfig(gan_mode=gan_mode)
        terms = losses.discriminator_terms(
            _constant(1.0), "b", self.real_b, self.real_a, config, tf.constant([1, 2])
        )
        expected = {"lsgan": (0.0, 0.5), "wgangp": (-0.5, 0.5)}[gan_mode]
        self.assertAllClose(terms["discriminator_b/real"], [expected[0]] * 2)
        self.assertAllClose(terms["discriminator_b/fake"], [expected[1]] * 2)
        # A constant critic has zero gradient: the penalty is lambda_gp * (0 - 1)^2.
        if gan_mode == "wgangp":
            self.assertAllClose(terms["discriminator_b/gradient_penalty"], [10.0, 10.0])
        else:
            self.assertNotIn("discriminator_b/gradient_penalty", terms)
