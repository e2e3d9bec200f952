import keras
import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.networks import conv_paths, fast_conv, layers


def _pair(in_channels, filters, kernel_size, dtype="float32"):
    fast = fast_conv.FastGradientConv2D(filters, kernel_size, dtype=dtype)
    stock = keras.layers.Conv2D(filters, kernel_size, dtype=dtype)
    for layer in (fast, stock):
        layer.build((None, None, None, in_channels))
    stock.set_weights(fast.get_weights())
    return fast, stock


def _outputs_and_gradients(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(tf.sin(tf.cast(y, tf.float32)))  # A non-uniform upstream gradient.
    return [y, *tape.gradient(loss, [x, *layer.trainable_variables])]


class FastGradientConv2DTest(tf.test.TestCase, parameterized.TestCase):
    def setUp(self):
        super().setUp()
        conv_paths.configure("fast")  # The rewrite itself, whatever this machine would pick.
        self.addCleanup(conv_paths.configure)

    @parameterized.named_parameters(
        ("generator_head", 64, 3, 7, True),
        ("discriminator_head", 40, 1, 4, True),
        ("residual", 32, 32, 3, True),
        ("wide_even_kernel", 48, 40, 4, True),
        ("stem_keeps_stock_gradients", 3, 16, 7, False),
    )
    def test_gradients_equal_stock_conv(self, in_channels, filters, kernel_size, fast_path):
        fast, stock = _pair(in_channels, filters, kernel_size)
        self.assertEqual(fast_conv.uses_fast_gradients(fast.kernel.shape), fast_path)
        x = tf.random.stateless_normal([2, 11, 14, in_channels], seed=[1, 2])
        for got, want in zip(_outputs_and_gradients(fast, x), _outputs_and_gradients(stock, x)):
            self.assertAllClose(got, want, atol=1e-4, rtol=1e-4)

    @parameterized.named_parameters(("narrow", 16, 1, 4), ("wide", 32, 32, 3))
    def test_second_order_gradients_equal_stock_conv(self, in_channels, filters, kernel_size):
        # The WGAN-GP penalty trains on the gradient of the critic's input gradient.
        fast, stock = _pair(in_channels, filters, kernel_size)
        x = tf.random.stateless_normal([2, 9, 10, in_channels], seed=[7, 8])
        results = []
        for layer in (fast, stock):
            with tf.GradientTape() as outer:
                with tf.GradientTape() as inner:
                    inner.watch(x)
                    score = tf.reduce_sum(tf.sin(layer(x, training=True)))
                penalty = tf.reduce_sum(tf.square(inner.gradient(score, x)))
            results.append(outer.gradient(penalty, layer.trainable_variables))
        for got, want in zip(*results):
            self.assertAllClose(got, want, atol=1e-3, rtol=1e-4)

    def test_gradients_equal_stock_conv_under_xla(self):
        fast, stock = _pair(32, 32, 3)
        x = tf.random.stateless_normal([1, 9, 9, 32], seed=[5, 6])
        compiled = tf.function(_outputs_and_gradients, jit_compile=True)
        for got, want in zip(compiled(fast, x), _outputs_and_gradients(stock, x)):
            self.assertAllClose(got, want, atol=1e-4, rtol=1e-4)

    def test_inference_matches_stock_conv(self):
        fast, stock = _pair(8, 3, 3)
        x = tf.random.stateless_normal([1, 6, 6, 8], seed=[3, 4])
        self.assertAllClose(fast(x), stock(x), atol=1e-6)

    @parameterized.parameters((32, 3), (32, 32))
    def test_mixed_float16_gradients_reach_float32_weights(self, in_channels, filters):
        fast, stock = _pair(in_channels, filters, 3, dtype="mixed_float16")
        x = tf.random.stateless_normal([1, 6, 6, in_channels], seed=[3, 4])
        got, want = _outputs_and_gradients(fast, x), _outputs_and_gradients(stock, x)
        self.assertEqual(got[2].dtype, tf.float32)
        self.assertAllClose(got[2], want[2], rtol=1e-2, atol=1e-2)

    def test_factory_uses_it_for_stride_one_valid_convolutions_only(self):
        factory = layers.LayerFactory(seed=1)
        self.assertIsInstance(factory.conv(3, 7), fast_conv.FastGradientConv2D)
        strided = factory.conv(64, 3, strides=2, padding="same")
        self.assertNotIsInstance(strided, fast_conv.FastGradientConv2D)

    def test_rejects_strides(self):
        with self.assertRaisesRegex(ValueError, r"strides 1.*got strides=\(2, 2\)"):
            fast_conv.FastGradientConv2D(3, 3, strides=2)


if __name__ == "__main__":
    tf.test.main()
