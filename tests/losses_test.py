import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan import losses


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
