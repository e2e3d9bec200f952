import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.networks import layers


class InstanceNormalizationTest(tf.test.TestCase, parameterized.TestCase):
    def test_matches_formula(self):
        x = np.random.default_rng(0).normal(3.0, 2.0, size=(2, 5, 7, 3)).astype(np.float32)
        mean = x.mean(axis=(1, 2), keepdims=True)
        var = x.var(axis=(1, 2), keepdims=True)  # Biased, as PyTorch's InstanceNorm2d.
        expected = (x - mean) / np.sqrt(var + 1e-5)
        self.assertAllClose(layers.InstanceNormalization()(x), expected, atol=1e-5)

    def test_matches_group_norm_with_one_group_per_channel(self):
        x = tf.random.stateless_normal([2, 6, 6, 4], seed=[1, 2])
        reference = keras.layers.GroupNormalization(
            groups=-1, epsilon=1e-5, center=False, scale=False
        )
        self.assertAllClose(layers.InstanceNormalization()(x), reference(x), atol=1e-5)

    @parameterized.parameters(False, True)
    def test_training_gradients_equal_autodiff_of_the_formula(self, in_function):
        x = 3.0 + 2.0 * tf.random.stateless_normal([2, 5, 7, 3], seed=[1, 2])
        weights = tf.random.stateless_normal([2, 5, 7, 3], seed=[3, 4])

        def formula(x):
            mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
            return (x - mean) / tf.sqrt(variance + 1e-5)

        def first_and_second_order(normalize):
            with tf.GradientTape() as outer:
                outer.watch(x)
                with tf.GradientTape() as inner:
                    inner.watch(x)
                    score = tf.reduce_sum(tf.sin(normalize(x) * weights))
                grad = inner.gradient(score, x)
                penalty = tf.reduce_sum(tf.square(grad))  # As in the WGAN-GP penalty.
            return grad, outer.gradient(penalty, x)

        norm = layers.InstanceNormalization()
        run = tf.function(first_and_second_order) if in_function else first_and_second_order
        got = run(lambda x: norm(x, training=True))
        want = first_and_second_order(formula)
        self.assertAllClose(got[0], want[0], atol=1e-5)
        self.assertAllClose(got[1], want[1], atol=1e-4, rtol=1e-4)

    def test_mixed_precision_computes_in_float32_and_returns_float16(self):
        x = 3.0 + tf.random.stateless_normal([1, 4, 4, 2], seed=[1, 2])
        out = layers.InstanceNormalization(dtype="mixed_float16")(x)
        self.assertEqual(out.dtype, tf.float16)
        self.assertAllClose(out, layers.InstanceNormalization()(x), atol=1e-2)

    def test_affine_variant_has_weights(self):
        norm = layers.InstanceNormalization(center=True, scale=True)
        norm(tf.zeros([1, 4, 4, 3]))
        self.assertLen(norm.trainable_weights, 2)


class ReflectionPaddingTest(tf.test.TestCase):
    def test_matches_numpy_reflect(self):
        x = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
        expected = np.pad(x, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect")
        self.assertAllEqual(layers.ReflectionPadding2D(2)(x), expected)


class InitializerTest(tf.test.TestCase, parameterized.TestCase):
    def test_normal_has_the_requested_std(self):
        w = layers.kernel_initializer("normal", 0.02, seed=1)([64, 64, 3, 3])
        self.assertNear(float(tf.math.reduce_std(w)), 0.02, 0.001)
        self.assertNear(float(tf.reduce_mean(w)), 0.0, 0.001)

    def test_orthogonal_is_orthogonal(self):
        w = layers.kernel_initializer("orthogonal", 1.0, seed=1)([16, 16])
        self.assertAllClose(tf.matmul(w, w, transpose_a=True), tf.eye(16), atol=1e-5)

    @parameterized.parameters("normal", "xavier", "kaiming", "orthogonal")
    def test_layers_of_one_shape_get_different_kernels(self, init_type):
        factory = layers.LayerFactory(init_type=init_type, seed=3)
        first, second = factory.conv(8, 3), factory.conv(8, 3)
        first.build((None, None, None, 8))
        second.build((None, None, None, 8))
        self.assertNotAllClose(first.kernel, second.kernel)

    def test_unknown_init_type_is_named(self):
        with self.assertRaisesRegex(ValueError, "'uniform'.*normal"):
            layers.kernel_initializer("uniform", 0.02, seed=None)

    def test_unknown_norm_is_named(self):
        with self.assertRaisesRegex(ValueError, "'layer'.*instance"):
            layers.normalization("layer", "n")


class LeakyReLUTest(tf.test.TestCase):
    def test_values_and_gradients_equal_keras_leaky_relu(self):
        x = tf.random.stateless_normal([2, 5, 5, 3], seed=[5, 6])  # Both signs.
        ours, theirs = layers.LeakyReLU(0.2), keras.layers.LeakyReLU(0.2)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y_ours, y_theirs = ours(x), theirs(x)
            weighted = [tf.reduce_sum(y * (x + 2.0)) for y in (y_ours, y_theirs)]
        self.assertAllEqual(y_ours, y_theirs)
        self.assertAllClose(*(tape.gradient(w, x) for w in weighted), atol=1e-6)


if __name__ == "__main__":
    tf.test.main()


def _blur_down_reference(x):
    """The official Downsample(filt_size=3) written out in numpy: reflection pad 1, then
    [1, 2, 1] x [1, 2, 1] / 16 at stride 2. x: [h, w]."""
    padded = np.pad(x, 1, mode="reflect")
    kernel = np.outer([1, 2, 1], [1, 2, 1]) / 16
    rows, cols = (x.shape[0] + 1) // 2, (x.shape[1] + 1) // 2
    out = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.sum(padded[2 * i : 2 * i + 3, 2 * j : 2 * j + 3] * kernel)
    return out


def _blur_up_reference(x):
    """The official Upsample(filt_size=4) per axis: output 2k is (x[k-1] + 3 x[k]) / 4 and
    2k + 1 is (3 x[k] + x[k+1]) / 4, edges replicated. x: [h, w]."""
    for axis in (0, 1):
        padded = np.pad(x, [(1, 1) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        left, centre, right = (
            np.take(padded, range(start, start + x.shape[axis]), axis=axis) for start in (0, 1, 2)
        )
        even, odd = (left + 3 * centre) / 4, (3 * centre + right) / 4
        x = np.stack([even, odd], axis=axis + 1).reshape(
            [2 * n if a == axis else n for a, n in enumerate(x.shape)]
        )
    return x


class AntialiasTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters((8, 8), (9, 6), (5, 12))
    def test_blurs_match_the_official_filters_written_out(self, height, width):
        from tf_cyclegan.networks import antialias

        x = np.random.default_rng(height * width).standard_normal((1, height, width, 1))
        down = antialias.BlurDownsample()(x.astype(np.float32))[0, :, :, 0]
        up = antialias.BlurUpsample()(x.astype(np.float32))[0, :, :, 0]
        # Sums of a few float32 terms of unit size.
        self.assertAllClose(down, _blur_down_reference(x[0, :, :, 0]), atol=1e-6)
        self.assertAllClose(up, _blur_up_reference(x[0, :, :, 0]), atol=1e-6)
