"""Students: built from their registry entry, phone size, what they compute."""

import keras
import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.common import architectures
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.networks import flops, models, students
from tf_cyclegan.networks import layers as cg_layers


class StudentTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(*architectures.student_names())
    def test_students_are_built_from_their_registry_entry(self, name):
        student = models.build_generator(config_lib.ModelConfig(generator=name))
        entry = architectures.get(name)
        self.assertEqual(student.get_layer("stem_conv").filters, entry.width)
        blocks = [layer for layer in student.layers if layer.name.endswith("_depthwise")]
        self.assertLen(blocks, entry.depth)

    @parameterized.parameters(*architectures.student_names())
    def test_is_phone_size_against_the_resnet_teacher(self, name):
        # The Mobile issue's contract: <= 1/20 of ResNet-9's MACs, <= 0.5 M parameters.
        student = models.build_generator(config_lib.ModelConfig(generator=name))
        teacher = models.build_generator(config_lib.ModelConfig(generator="resnet_9blocks"))
        self.assertLessEqual(
            flops.network_macs(student, 256), flops.network_macs(teacher, 256) / 20
        )
        self.assertLessEqual(student.count_params(), 500_000)

    @parameterized.parameters((3, 3), (1, 3))
    def test_translates_any_multiple_of_4_into_the_pixel_range(self, channels_in, channels_out):
        model = students.student_generator(
            architectures.get("mobile_s"), (channels_in, channels_out), seed=1
        )
        images = tf.random.uniform([2, 20, 28, channels_in], -1, 1, seed=2)
        out = model(images)
        self.assertEqual(out.shape, (2, 20, 28, channels_out))
        self.assertEqual(out.dtype, tf.float32)
        self.assertAllInRange(out, -1.0, 1.0)

    def test_features_are_at_a_quarter_of_the_resolution(self):
        model = students.student_generator(architectures.get("mobile_s"))
        layer = model.get_layer(models.feature_layer("mobile_s"))
        probe = keras.Model(model.input, layer.output)
        self.assertEqual(probe(tf.zeros([1, 32, 32, 3])).shape, (1, 8, 8, 64))

    @parameterized.parameters(False, True)
    def test_upsampling_gradient_is_the_resize_gradient(self, jit_compile):
        # Spelled out for XLA, which has no ResizeNearestNeighborGrad kernel.
        x = tf.random.uniform([2, 3, 5, 4], seed=6)
        weights = tf.random.uniform([2, 6, 10, 4], seed=7)

        def grad(upsample):
            def fn(x):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    y = tf.reduce_sum(weights * upsample(x))
                return upsample(x), tape.gradient(y, x)

            return tf.function(fn, jit_compile=jit_compile)(x)

        ours = grad(cg_layers.NearestUpsampling2D())
        stock = tf.function(
            lambda x: tf.image.resize(x, [6, 10], method="nearest")
        )  # Differentiated outside XLA.
        with tf.GradientTape() as tape:
            tape.watch(x)
            want = stock(x)
            total = tf.reduce_sum(weights * want)
        self.assertAllEqual(ours[0], want)
        self.assertAllClose(ours[1], tape.gradient(total, x), rtol=1e-6)

    def test_depthwise_convolutions_are_counted_per_channel(self):
        inputs = keras.Input((None, None, 4))
        outputs = keras.layers.DepthwiseConv2D(3, padding="same")(inputs)
        model = keras.Model(inputs, outputs)
        # 3x3 taps x 4 channels x 8x8 pixels, one input channel each.
        self.assertEqual(flops.network_macs(model, 8), 9 * 4 * 64)


if __name__ == "__main__":
    tf.test.main()
