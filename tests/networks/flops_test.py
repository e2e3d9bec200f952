import keras
import tensorflow as tf

from tf_cyclegan.common import config as config_lib
from tf_cyclegan.networks import flops, models


class FlopsTest(tf.test.TestCase):
    def test_counts_convolutions_and_transposed_convolutions_by_hand(self):
        inputs = keras.Input((None, None, 3))
        x = keras.layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
        outputs = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
        model = keras.Model(inputs, outputs)
        conv = 2 * 9 * 3 * 8 * 16 * 16  # Output pixels of the stride-2 convolution.
        transposed = 2 * 9 * 8 * 4 * 16 * 16  # Input pixels of the transposed one.
        self.assertEqual(flops.network_flops(model, 32), conv + transposed)

    def test_the_table_marks_generators_that_do_not_take_the_size(self):
        rows = {name: gmacs for name, gmacs, _ in flops.generator_table(64)}
        self.assertIsNone(rows["unet_128"])  # Its sides are multiples of 128.
        self.assertGreater(rows["resnet_6blocks"], 0)

    def test_resnet9_iteration_at_256_is_1_88_tflop(self):
        config = config_lib.ModelConfig()
        generator = flops.network_flops(models.build_generator(config), 256)
        self.assertAllClose(generator, 99.10e9, rtol=1e-3)
        self.assertAllClose(flops.iteration_flops(config, 256), 1.8846e12, rtol=1e-3)


if __name__ == "__main__":
    tf.test.main()
