import numpy as np
import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.common import config as config_lib
from tf_cyclegan.networks import models


def _model_config(**kwargs):
    return config_lib.ModelConfig(**kwargs)


class GeneratorTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.product(
        generator=["resnet_6blocks", "resnet_9blocks"],
        size=[(8, 8), (32, 48), (52, 36)],
        upsample=["transpose", "resize_conv"],
    )
    def test_resnet_keeps_shape_for_multiples_of_4(self, generator, size, upsample):
        net = models.build_generator(_model_config(generator=generator, ngf=4, upsample=upsample))
        out = net(tf.zeros([2, *size, 3]))
        self.assertEqual(out.shape, (2, *size, 3))
        self.assertEqual(out.dtype, tf.float32)

    @parameterized.parameters(("unet_128", 128), ("unet_256", 256))
    def test_unet_keeps_shape(self, generator, size):
        net = models.build_generator(_model_config(generator=generator, ngf=2))
        self.assertEqual(net(tf.zeros([1, size, size, 3])).shape, (1, size, size, 3))

    def test_outputs_are_in_tanh_range(self):
        net = models.build_generator(_model_config(generator="resnet_6blocks", ngf=4))
        out = net(tf.random.stateless_uniform([1, 16, 16, 3], seed=[1, 1], minval=-1, maxval=1))
        self.assertAllInRange(out, -1.0, 1.0)

    def test_resnet9_parameter_count_equals_official(self):
        net = models.build_generator(_model_config(generator="resnet_9blocks", ngf=64))
        self.assertEqual(net.count_params(), 11_378_179)

    def test_unknown_generator_is_named(self):
        with self.assertRaisesRegex(ValueError, "'resnet_7blocks'.*resnet_9blocks"):
            models.build_generator(_model_config(generator="resnet_7blocks"))


class DiscriminatorTest(tf.test.TestCase, parameterized.TestCase):
    def test_basic_parameter_count_equals_official(self):
        net = models.build_discriminator(_model_config(discriminator="basic", ndf=64))
        self.assertEqual(net.count_params(), 2_764_737)

    @parameterized.parameters((256, 30), (128, 14), (64, 6))
    def test_patch_output_shape(self, size, patches):
        net = models.build_discriminator(_model_config(ndf=4))
        self.assertEqual(net(tf.zeros([2, size, size, 3])).shape, (2, patches, patches, 1))

    def test_pixel_discriminator_scores_every_pixel(self):
        net = models.build_discriminator(_model_config(discriminator="pixel", ndf=4))
        self.assertEqual(net(tf.zeros([1, 10, 12, 3])).shape, (1, 10, 12, 1))

    @parameterized.parameters((3, 70), (1, 16), (2, 34))
    def test_receptive_field(self, n_layers, expected):
        # Instance norm couples every pixel, so measure the convolutions' field without it.
        net = models.build_discriminator(
            _model_config(discriminator="n_layers", n_layers_d=n_layers, ndf=4, norm="none")
        )
        x = tf.random.stateless_uniform([1, 160, 160, 3], seed=[2, 3])
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = net(x)
            center = logits.shape[1] // 2
            score = logits[0, center, center, 0]
        grad = tape.gradient(score, x)[0]
        rows = np.nonzero(np.abs(grad.numpy()).sum(axis=(1, 2)))[0]
        cols = np.nonzero(np.abs(grad.numpy()).sum(axis=(0, 2)))[0]
        self.assertEqual(rows[-1] - rows[0] + 1, expected)
        self.assertEqual(cols[-1] - cols[0] + 1, expected)


if __name__ == "__main__":
    tf.test.main()
