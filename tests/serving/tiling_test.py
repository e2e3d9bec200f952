"""Tiled translation: exact with fixed statistics, bounded windows, clear refusals."""

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import tiny_generator
from tf_cyclegan.common import architectures, errors
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.networks import layers, models
from tf_cyclegan.serving import serving_module, tiling, translators


def _generator(name, pytorch_compatible=False):
    """A narrow generator of the registered architecture ``name``, random weights."""
    sub_mobile = architectures.GENERATORS[name].family == "sub_mobile"
    model_config = config_lib.ModelConfig(
        generator=name,
        ngf=4,
        sub_mobile_config="4_4_4_4_4_4_4_4" if sub_mobile else None,
        pytorch_compatible=pytorch_compatible,
    )
    return models.build_generator(model_config, seed=3)


def _whole_statistics(generator, x):
    with layers.instance_norm_statistics() as statistics:
        generator(x, training=False)
    return statistics.recorded


def _with_statistics(generator, x, statistics):
    with layers.instance_norm_statistics(statistics):
        return generator(x, training=False).numpy()


class WindowsTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(1, 255, 256, 257, 449, 450, 1001, 4000, 4003)
    def test_kept_parts_partition_the_axis_away_from_cut_edges(self, length):
        core, margin, align = 64, 96, 4
        parts = tiling.windows(length, core, margin, align)
        self.assertEqual([k for p in parts for k in range(p[2], p[3])], list(range(length)))
        for start, stop, keep_start, keep_stop in parts:
            self.assertEqual(start % align, 0)
            self.assertTrue(start == 0 or keep_start - start >= margin)
            self.assertTrue(stop == length or stop - keep_stop >= margin)
            self.assertLessEqual(stop - start, core + 2 * margin + align)


class TilingTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.product(
        name=(tiny_generator.NAME, "resnet_6blocks", "resnet_9blocks", "sub_mobile_resnet_9blocks"),
        pytorch_compatible=(False, True),
    )
    def test_receptive_radius_fits_the_tile_margin(self, name, pytorch_compatible):
        generator = _generator(name, pytorch_compatible)
        x = tf.random.uniform([1, 256, 256, 3], -1, 1, seed=0)
        statistics = _whole_statistics(generator, x)
        poked = x.numpy()
        poked[0, 128, 128] += 1.0
        change = np.abs(
            _with_statistics(generator, poked, statistics)
            - _with_statistics(generator, x, statistics)
        ).max(axis=(0, 2, 3))
        rows = np.flatnonzero(change)
        radius = max(128 - rows.min(), rows.max() - 128)
        # The table is the larger of the two layouts' radii (Keras 'same' pads one side:
        # one pixel more there).
        recorded = architectures.GENERATORS[name].receptive_radius
        self.assertBetween(radius, recorded - 1, recorded)
        self.assertLess(recorded, serving_module.TILE_MARGIN)

    @parameterized.product(
        name=("resnet_6blocks", "sub_mobile_resnet_9blocks"), pytorch_compatible=(False, True)
    )
    def test_tiles_with_the_whole_images_statistics_reproduce_it(self, name, pytorch_compatible):
        generator = _generator(name, pytorch_compatible)
        module = serving_module.ServingModule(
            {"a2b": generator, "b2a": generator}, 4, tileable=True
        )
        image = np.random.default_rng(0).integers(0, 256, (301, 422, 3), np.uint8)
        whole = module.a2b(tf.constant(image[np.newaxis]))["images"][0].numpy()
        budget = tiling.Budget(whole_pixels=image.size, tile_core=64)  # 5x7 tiles, no downscale.
        tiled = tiling.translate(
            image,
            lambda x: module.a2b_statistics(tf.constant(x))["statistics"],
            lambda x, s: module.a2b_tile(tf.constant(x), s)["images"].numpy(),
            budget,
        )
        # Same float32 math up to summation order (~1e-6): a pixel may round the other way.
        difference = np.abs(tiled.astype(int) - whole.astype(int))
        self.assertLessEqual(difference.max(), 1)
        self.assertLess(difference.mean(), 0.01)

    def test_statistics_are_per_layer_means_and_variances(self):
        generator = _generator("resnet_6blocks")
        module = serving_module.ServingModule(
            {"a2b": generator, "b2a": generator}, 4, tileable=True
        )
        x = tf.random.uniform([1, 40, 48, 3], -1, 1, seed=1)
        flat = module.a2b_statistics(x)["statistics"]
        expected = [tf.reshape(t, [-1]) for pair in _whole_statistics(generator, x) for t in pair]
        self.assertAllClose(flat, tf.concat(expected, 0))


class TranslatorTest(tf.test.TestCase):
    def test_large_image_goes_through_tiles_and_small_one_whole(self):
        calls = []
        translator = translators.Translator(
            whole=lambda images: calls.append("whole") or images,
            statistics=lambda x: calls.append("statistics") or np.zeros(1, np.float32),
            tile=lambda x, s: calls.append("tile") or x,
            budget=tiling.Budget(whole_pixels=32 * 32, tile_core=16),
        )
        small = np.full((32, 32, 3), 7, np.uint8)
        self.assertAllEqual(translator.translate_image(small), small)
        self.assertEqual(calls, ["whole"])
        large = np.random.default_rng(0).integers(0, 256, (33, 400, 3), np.uint8)
        self.assertAllEqual(translator.translate_image(large), large)
        self.assertEqual(calls[1], "statistics")
        self.assertGreater(calls.count("tile"), 1)

    def test_large_image_without_a_tiled_form_is_refused(self):
        translator = translators.Translator(
            whole=lambda images: images, budget=tiling.Budget(whole_pixels=100, tile_core=16)
        )
        with self.assertRaisesRegex(errors.ConfigError, "no tiled form"):
            translator.translate_image(np.zeros((20, 20, 3), np.uint8), "big.jpg")

    def test_image_beyond_the_pixel_limit_is_refused_by_name(self):
        with self.assertRaisesRegex(errors.ConfigError, "huge.jpg is 20000x10000.*downscale"):
            tiling.check_size(10000, 20000, "huge.jpg")


if __name__ == "__main__":
    tf.test.main()
