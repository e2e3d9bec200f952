"""Convolution gradients are chosen by measurement on the machine at hand, and cached."""

import json
import os
import tempfile
from unittest import mock

import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.common import errors
from tf_cyclegan.networks import conv_paths, fast_conv

_WIDE = ([1, 18, 18, 32], [3, 3, 32, 32], tf.float32, fast_conv.conv2d_with_fast_gradients)


class ConvPathsTest(tf.test.TestCase, parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.cache_dir = tempfile.mkdtemp()
        conv_paths.configure("auto", self.cache_dir)
        conv_paths._choices.clear()
        self.addCleanup(conv_paths.configure)
        self.addCleanup(conv_paths._choices.clear)

    @parameterized.parameters(((10.0, 5.0), "fast"), ((10.0, 9.9), "stock"), ((5.0, 10.0), "stock"))
    def test_auto_takes_the_rewrite_only_when_measured_clearly_faster(self, times, expected):
        with mock.patch.object(conv_paths, "measure", return_value=times):
            self.assertEqual(conv_paths.choose(*_WIDE), expected)

    def test_choice_is_cached_on_disk_for_this_machine(self):
        with mock.patch.object(conv_paths, "measure", return_value=(10.0, 5.0)) as measure:
            conv_paths.choose(*_WIDE)
            conv_paths._choices.clear()  # A new process: only the disk remembers.
            self.assertEqual(conv_paths.choose(*_WIDE), "fast")
        self.assertEqual(measure.call_count, 1)
        with open(os.path.join(self.cache_dir, "conv_paths.json")) as f:
            cached = json.load(f)[conv_paths.machine_key()]
        self.assertEqual(list(cached.values())[0]["choice"], "fast")

    def test_damaged_cache_is_measured_again(self):
        with open(os.path.join(self.cache_dir, "conv_paths.json"), "w") as f:
            f.write("{not json")
        with mock.patch.object(conv_paths, "measure", return_value=(5.0, 10.0)) as measure:
            self.assertEqual(conv_paths.choose(*_WIDE), "stock")
        self.assertEqual(measure.call_count, 1)

    @parameterized.parameters("stock", "fast")
    def test_forced_mode_is_used_without_measuring(self, mode):
        conv_paths.configure(mode, self.cache_dir)
        with mock.patch.object(conv_paths, "measure") as measure:
            self.assertEqual(conv_paths.choose(*_WIDE), mode)
        measure.assert_not_called()

    def test_gpus_keep_stock_gradients(self):
        gpu = [mock.Mock()]
        with mock.patch.object(tf.config, "list_logical_devices", return_value=gpu):
            with mock.patch.object(conv_paths, "measure") as measure:
                self.assertEqual(conv_paths.choose(*_WIDE), "stock")
        measure.assert_not_called()

    def test_shape_without_a_rewrite_is_stock_even_when_forced(self):
        conv_paths.configure("fast", self.cache_dir)
        self.assertEqual(
            conv_paths.choose([1, 16, 16, 3], [7, 7, 3, 16], tf.float32, None), "stock"
        )

    def test_measurement_times_both_paths(self):
        stock_ms, fast_ms = conv_paths.measure(*_WIDE, repeats=1)
        self.assertGreater(stock_ms, 0)
        self.assertGreater(fast_ms, 0)

    def test_unknown_mode_is_a_user_error(self):
        with self.assertRaisesRegex(errors.ConfigError, "--conv_gradients=quick"):
            conv_paths.configure("quick")


if __name__ == "__main__":
    tf.test.main()
