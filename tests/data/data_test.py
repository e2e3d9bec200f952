import socket
import time
from unittest import mock

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import errors, reachability
from tf_cyclegan.data import pipeline, sources, synthetic


def _data_config(**kwargs):
    defaults = dict(load_size=36, crop_size=32, batch_size=2, max_dataset_size=None)
    return config_lib.DataConfig(**{**defaults, **kwargs})


class SyntheticDatasetTest(tf.test.TestCase):
    def test_has_the_four_splits_with_ground_truth(self):
        builder = sources.get_builder("synthetic", helpers.synthetic_data_dir())
        for split, size in synthetic.SPLIT_SIZES.items():
            self.assertEqual(builder.info.splits[split].num_examples, size)
        example = next(iter(builder.as_dataset(split="testA")))
        self.assertEqual(example["image"].shape, (64, 64, 3))
        self.assertEqual(example["image"].dtype, tf.uint8)
        self.assertEqual(int(example["label"]), 0)
        images, truths = pipeline.paired_test_set(builder, "testB", 64)
        self.assertEqual(images.shape, (32, 64, 64, 3))
        self.assertEqual(truths.shape, (32, 64, 64, 3))

    def test_domains_differ_by_the_documented_translation(self):
        image_a, image_b = synthetic.render_pair(seed=7)
        background = image_a[0, 0].astype(int)
        self.assertAllEqual(image_b[0, 0], 255 - background)

    def test_only_the_true_channel_rotation_maps_day_colours_to_night_ones(self):
        # What makes the task solvable without pairs: no other channel permutation of the
        # day shapes' colours lands in the night shapes' colour ranges.
        import itertools

        night = np.roll(np.array(synthetic.DAY_CHANNEL_RANGES), 1, axis=0)
        day_colours = []
        for seed in range(20):
            image_a, image_b = synthetic.render_pair(seed)
            background = image_a[0, 0]
            # Shape pixels, less where a later shape's night outline covers an earlier one.
            outlined = np.all(image_b == 10, axis=-1)
            shapes = np.any(image_a != background, axis=-1) & ~outlined
            day_colours.append(image_a[shapes])
            self.assertAllEqual(image_b[shapes], np.roll(image_a[shapes], 1, axis=-1))
        day_colours = np.concatenate(day_colours)
        fitting = []
        for order in itertools.permutations(range(3)):
            moved = day_colours[:, order]
            if np.all((moved >= night[:, 0]) & (moved <= night[:, 1])):
                fitting.append(order)
        self.assertEqual(fitting, [(2, 0, 1)])  # (R, G, B) -> (B, R, G)

    def test_outlines_stop_at_the_border(self):
        mask = np.zeros((8, 8), bool)
        mask[3:5, 0] = True  # A shape touching the left border.
        grown = synthetic._dilate(mask, 2)
        self.assertTrue(grown[3:5, :3].all())
        self.assertFalse(grown[:, -2:].any())  # Nothing wraps around to the right border.


class PreprocessTest(tf.test.TestCase, parameterized.TestCase):
    image = tf.cast(
        tf.random.stateless_uniform([50, 40, 3], [1, 2], maxval=256, dtype=tf.int32), tf.uint8
    )

    @parameterized.parameters(True, False)
    def test_eager_and_tf_data_agree(self, flip):
        config = _data_config(flip=flip)
        seed = tf.constant([3, 4])
        eager = pipeline.preprocess(self.image, config, seed)
        ds = tf.data.Dataset.from_tensors(self.image).map(
            lambda x: pipeline.preprocess(x, config, seed)
        )
        self.assertAllClose(eager, next(iter(ds)))
        self.assertEqual(eager.shape, (32, 32, 3))
        self.assertAllInRange(eager, -1.0, 1.0)

    def test_no_crop_no_flip_is_a_bicubic_resize(self):
        config = _data_config(load_size=32, crop_size=32, flip=False)
        expected = tf.clip_by_value(tf.image.resize(self.image, [32, 32], "bicubic"), 0, 255)
        out = pipeline.preprocess(self.image, config, tf.constant([0, 0]))
        self.assertAllClose(out, expected / 127.5 - 1.0, atol=1e-5)

    def test_seeds_pick_different_crops(self):
        config = _data_config()
        first = pipeline.preprocess(self.image, config, tf.constant([1, 0]))
        second = pipeline.preprocess(self.image, config, tf.constant([2, 0]))
        self.assertNotAllClose(first, second)


class EpochTest(tf.test.TestCase, parameterized.TestCase):
    def test_order_is_a_permutation_per_pass(self):
        order = pipeline.epoch_order(5, 12, seed=1, epoch=0).numpy()
        self.assertLen(order, 12)
        self.assertCountEqual(order[:5], range(5))
        self.assertCountEqual(order[5:10], range(5))

    def test_order_changes_with_the_epoch(self):
        first = pipeline.epoch_order(50, 50, seed=1, epoch=0)
        self.assertNotAllEqual(first, pipeline.epoch_order(50, 50, seed=1, epoch=1))
        self.assertAllEqual(first, pipeline.epoch_order(50, 50, seed=1, epoch=0))

    @parameterized.parameters((None, 2, 128), (16, 2, 8), (10, 4, 2))
    def test_epoch_is_the_longer_domain_in_full_batches(self, cap, batch, expected):
        builder = sources.get_builder("synthetic", helpers.synthetic_data_dir())
        config = _data_config(max_dataset_size=cap)
        self.assertEqual(sources.steps_per_epoch(builder, config, batch), expected)

    def test_batch_larger_than_the_data_is_refused(self):
        builder = sources.get_builder("synthetic", helpers.synthetic_data_dir())
        with self.assertRaisesRegex(ValueError, "fewer than the global batch of 8"):
            sources.steps_per_epoch(builder, _data_config(max_dataset_size=4), 8)


class TrainDatasetTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.builder = sources.get_builder("synthetic", helpers.synthetic_data_dir())
        self.config = _data_config(max_dataset_size=6)

    def _batches(self, count, start_step=0):
        ds = pipeline.train_dataset(self.builder, self.config, 3, 2, start_step=start_step)
        return [b for _, b in zip(range(count), ds)]

    def test_batches_are_unpaired_crops_in_range(self):
        batch = self._batches(1)[0]
        self.assertEqual(batch["a"].shape, (2, 32, 32, 3))
        self.assertEqual(batch["b"].shape, (2, 32, 32, 3))
        self.assertAllInRange(batch["a"], -1.0, 1.0)

    def test_resume_reads_the_same_batches(self):
        straight = self._batches(8)
        resumed = self._batches(3, start_step=5)  # 3 steps per epoch: mid epoch 1.
        for expected, actual in zip(straight[5:], resumed):
            self.assertAllEqual(expected["a"], actual["a"])
            self.assertAllEqual(expected["b"], actual["b"])

    def test_augmentation_is_fresh_every_epoch(self):
        config = _data_config(max_dataset_size=2)  # One step per epoch.
        ds = pipeline.train_dataset(self.builder, config, 3, 2)
        epochs = [b["a"] for _, b in zip(range(6), ds)]
        self.assertNotAllClose(epochs[0], epochs[1])


class BuilderTest(tf.test.TestCase):
    def test_unknown_dataset_is_named(self):
        with self.assertRaisesRegex(ValueError, "'mnist'.*synthetic.*cycle_gan/<config>"):
            sources.get_builder("mnist")

    def test_unknown_cycle_gan_config_lists_the_valid_ones(self):
        with self.assertRaisesRegex(ValueError, "'cycle_gan/horse2cat'.*horse2zebra"):
            sources.get_builder("cycle_gan/horse2cat", self.get_temp_dir())

    def test_offline_download_fails_fast_with_the_recipe(self):
        start = time.monotonic()
        with mock.patch.object(reachability, "host_reachable", return_value=False):
            with self.assertRaisesRegex(
                errors.DataUnavailableError, "tf_cyclegan.prepare --dataset=cycle_gan/horse2zebra"
            ):
                sources.get_builder("cycle_gan/horse2zebra", self.get_temp_dir())
        self.assertLess(time.monotonic() - start, 30)

    def test_closed_port_counts_as_unreachable(self):
        with socket.socket() as s:  # Bind then close: a loopback port nobody listens on.
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.assertFalse(reachability.host_reachable("127.0.0.1", port=port, timeout=1.0))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    tf.test.main()
