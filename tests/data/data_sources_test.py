"""Every way to get data: TFDS (mocked), offline archives, user folders, and bad files."""

import os
import shutil
import tempfile
import zipfile
from unittest import mock

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from absl.testing import parameterized
from PIL import Image

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import config_checks, conventions, reachability
from tf_cyclegan.data import pipeline, prepare_lib, sources
from tf_cyclegan.training import train_lib

# realpath: under Bazel this file is a runfiles symlink to the checkout, beside which the
# shared photos live (../shared/data/horse2zebra_mini, 4 JPEGs per domain; never copied in).
MINI = os.path.join(os.path.dirname(helpers.ROOT), "shared", "data", "horse2zebra_mini")
# The complete official split (../shared/data/horse2zebra); the tests copy a few files of it.
HORSE2ZEBRA = os.path.join(os.path.dirname(helpers.ROOT), "shared", "data", "horse2zebra")


def _image(path, shape, mode=None, seed=0):
    array = np.random.default_rng(seed).integers(0, 255, shape, dtype=np.uint8)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path)


def _dataset_tree(root, splits=("trainA", "trainB", "testA", "testB"), count=3):
    for split in splits:
        os.makedirs(os.path.join(root, split), exist_ok=True)
        for i in range(count):
            _image(os.path.join(root, split, f"{i}.jpg"), (24 + 4 * i, 30, 3), seed=i)
    return root


def _train_two_steps(dataset, data_dir, model_dir):
    overrides = {
        "data.dataset": dataset,
        "data.data_dir": data_dir,
        "data.batch_size": 1,
        "data.max_dataset_size": None,
        "train.train_steps": 2,
    }
    config = helpers.tiny_config(model_dir, **overrides)
    return train_lib.train(config)


class MockedTfdsTest(tf.test.TestCase):
    def test_cycle_gan_pipeline_runs_on_mock_data(self):
        config = config_lib.DataConfig(load_size=36, crop_size=32, batch_size=2)
        with (
            tfds.testing.mock_data(num_examples=6),
            mock.patch.object(reachability, "host_reachable", return_value=True),
        ):
            builder = sources.get_builder("cycle_gan/horse2zebra", self.get_temp_dir())
            self.assertEqual(sources.steps_per_epoch(builder, config, 2), 3)
            batch = next(iter(pipeline.train_dataset(builder, config, seed=0, global_batch_size=2)))
            self.assertEqual(batch["a"].shape, (2, 32, 32, 3))
            self.assertEqual(pipeline.sample_images(builder, "testB", 2, 32).shape, (2, 32, 32, 3))


class PrepareArchiveTest(tf.test.TestCase):
    def test_rezipped_archive_with_macosx_and_strays_prepares_offline_then_trains(self):
        work = tempfile.mkdtemp()
        tree = _dataset_tree(os.path.join(work, "src", "horse2zebra"))
        with open(os.path.join(tree, "trainA", ".DS_Store"), "w") as f:
            f.write("finder")
        archive = os.path.join(work, "horse2zebra.zip")
        with zipfile.ZipFile(archive, "w") as z:  # __MACOSX/ first, as macOS zips have it.
            z.writestr("__MACOSX/horse2zebra/._0.jpg", b"resource fork")
            for folder, _, files in os.walk(tree):
                for name in files:
                    path = os.path.join(folder, name)
                    z.write(path, os.path.relpath(path, os.path.dirname(tree)))
        data_dir = os.path.join(work, "tfds")
        with mock.patch.object(
            reachability, "host_reachable", side_effect=AssertionError("network")
        ):
            result = prepare_lib.prepare("cycle_gan/horse2zebra", archive, data_dir)
            self.assertEqual(result["splits"], {"trainA": 3, "trainB": 3, "testA": 3, "testB": 3})
            self.assertEqual(result["skipped"], [])
            trained = _train_two_steps("cycle_gan/horse2zebra", data_dir, f"{work}/run")
        self.assertEqual(trained["step"], 2)

    def test_an_empty_split_is_named(self):
        work = tempfile.mkdtemp()
        tree = _dataset_tree(os.path.join(work, "maps"))
        shutil.rmtree(os.path.join(tree, "testB"))
        os.makedirs(os.path.join(tree, "testB"))
        with self.assertRaisesRegex(Exception, r"no readable images in .*testB"):
            prepare_lib.prepare("cycle_gan/maps", tree, os.path.join(work, "tfds"))

    def test_missing_split_folder_is_named(self):
        work = tempfile.mkdtemp()
        tree = _dataset_tree(os.path.join(work, "facades"), splits=("trainA", "trainB"))
        with self.assertRaisesRegex(ValueError, "lacks testA, testB/"):
            prepare_lib.prepare("cycle_gan/facades", tree, os.path.join(work, "tfds"))

    def test_unknown_config_lists_the_valid_ones(self):
        with self.assertRaisesRegex(ValueError, "cycle_gan/horse2cat.*cycle_gan/apple2orange"):
            prepare_lib.prepare("cycle_gan/horse2cat", self.get_temp_dir())


class UserFolderTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = cls.root = tempfile.mkdtemp()
        for split in ("trainA", "trainB"):
            os.makedirs(os.path.join(root, split))
        _image(f"{root}/trainA/rgb.jpg", (40, 60, 3))
        _image(f"{root}/trainA/gray.png", (50, 50))
        _image(f"{root}/trainA/rgba.png", (30, 70, 4))
        _image(f"{root}/trainA/palette.gif", (33, 44, 3), mode="P")
        _image(f"{root}/trainB/b.bmp", (20, 20, 3))  # Smaller than the crop.
        _image(f"{root}/trainB/huge.jpg", (3000, 2500, 3))
        _image(f"{root}/trainB/cmyk.jpg", (40, 40, 3), mode="CMYK")
        open(f"{root}/trainB/zero.jpg", "wb").close()
        open(f"{root}/trainB/fake.png", "wb").write(b"not a png")
        open(f"{root}/trainB/notes.txt", "w").write("not an image")
        open(f"{root}/trainB/.DS_Store", "w").write("stray")
        whole = open(f"{root}/trainA/rgb.jpg", "rb").read()
        open(f"{root}/trainB/truncated.jpg", "wb").write(whole[: len(whole) // 2])
        cls.data_dir = tempfile.mkdtemp()
        cls.builder = sources.get_builder(root, cls.data_dir)

    def test_every_mode_and_size_becomes_rgb_and_test_splits_are_held_out(self):
        counts = {s: self.builder.info.splits[s].num_examples for s in conventions.SPLITS}
        self.assertEqual(counts, {"trainA": 3, "testA": 1, "trainB": 2, "testB": 1})
        for split in conventions.SPLITS:
            for example in self.builder.as_dataset(split=split):
                self.assertEqual(example["image"].shape[-1], 3)
                self.assertLessEqual(max(example["image"].shape[:2]), 2048)

    def test_bad_files_are_skipped_by_name(self):
        skipped = {os.path.basename(p) for p, _ in self.builder.skipped}
        self.assertEqual(skipped, {"zero.jpg", "fake.png", "notes.txt", "truncated.jpg"})

    def test_trains_from_the_folder(self):
        result = _train_two_steps(self.root, self.data_dir, tempfile.mkdtemp())
        self.assertEqual(result["step"], 2)

    def test_a_domain_with_no_readable_image_is_named(self):
        root = tempfile.mkdtemp()
        _dataset_tree(root, splits=("trainA",))
        os.makedirs(f"{root}/trainB")
        open(f"{root}/trainB/zero.jpg", "wb").close()
        with self.assertRaisesRegex(Exception, "no readable images in .*trainB"):
            sources.get_builder(root, tempfile.mkdtemp())

    def test_a_missing_domain_folder_is_named(self):
        root = _dataset_tree(tempfile.mkdtemp(), splits=("trainA",))
        with self.assertRaisesRegex(ValueError, "has no trainB/ folder"):
            sources.get_builder(root, tempfile.mkdtemp())


class PreprocessModesTest(tf.test.TestCase, parameterized.TestCase):
    image = np.random.default_rng(1).integers(0, 255, (50, 80, 3), dtype=np.uint8)

    @parameterized.parameters(
        ("resize_and_crop", (32, 32, 3)),
        ("crop", (32, 32, 3)),
        ("scale_width", (32, 36, 3)),  # Width 36 (load); height max(36 * 50 / 80, crop 32).
        ("scale_width_and_crop", (32, 32, 3)),
        ("none", (52, 80, 3)),  # 50 rounds to the nearest multiple of 4.
    )
    def test_mode_output_shape_eagerly_and_in_tf_data(self, mode, shape):
        config = config_lib.DataConfig(preprocess=mode, load_size=36, crop_size=32)
        seed = tf.constant([1, 2])
        eager = pipeline.preprocess(self.image, config, seed)
        ds = tf.data.Dataset.from_tensors(self.image).map(
            lambda x: pipeline.preprocess(x, config, seed)
        )
        self.assertEqual(eager.shape, shape)
        self.assertAllClose(eager, next(iter(ds)))
        self.assertAllInRange(eager, -1.0, 1.0)

    def test_crop_upscales_images_smaller_than_the_crop(self):
        config = config_lib.DataConfig(preprocess="crop", load_size=64, crop_size=64)
        out = pipeline.preprocess(self.image[:20, :30], config, tf.constant([0, 0]))
        self.assertEqual(out.shape, (64, 64, 3))

    def test_varying_size_modes_require_batch_one_and_no_pool(self):
        config = helpers.tiny_config(self.get_temp_dir(), **{"data.preprocess": "none"})
        with self.assertRaisesRegex(ValueError, "--preprocess=none .* --pool_size=0"):
            config_checks.validate(config)

    def test_cached_pipeline_gives_the_same_kind_of_batches_and_resumes(self):
        builder = sources.get_builder("synthetic", helpers.synthetic_data_dir())
        config = config_lib.DataConfig(load_size=36, crop_size=32, max_dataset_size=4, cache=True)
        straight = [b for _, b in zip(range(5), pipeline.train_dataset(builder, config, 0, 1))]
        resumed = next(iter(pipeline.train_dataset(builder, config, 0, 1, start_step=4)))
        self.assertEqual(straight[0]["a"].shape, (1, 32, 32, 3))
        self.assertAllEqual(straight[4]["a"], resumed["a"])


class RealPhotosTest(tf.test.TestCase):
    def test_horse2zebra_mini_prepares_offline_and_trains_a_step(self):
        if not os.path.isdir(MINI):
            self.skipTest(f"{MINI} is absent")
        work = tempfile.mkdtemp()
        tree = os.path.join(work, "horse2zebra")
        for split, source in (
            ("trainA", "testA"),
            ("trainB", "testB"),
            ("testA", "testA"),
            ("testB", "testB"),
        ):
            shutil.copytree(os.path.join(MINI, source), os.path.join(tree, split))
        result = prepare_lib.prepare("cycle_gan/horse2zebra", tree, f"{work}/tfds")
        self.assertEqual(result["splits"], {"trainA": 4, "trainB": 4, "testA": 4, "testB": 4})
        trained = _train_two_steps("cycle_gan/horse2zebra", f"{work}/tfds", f"{work}/run")
        self.assertEqual(trained["step"], 2)

    def test_a_few_files_of_the_real_split_prepare_into_the_genuine_tfds_dataset(self):
        if not os.path.isdir(HORSE2ZEBRA):
            self.skipTest(f"{HORSE2ZEBRA} is absent")
        work = tempfile.mkdtemp()
        counts = {"trainA": 3, "trainB": 5, "testA": 2, "testB": 4}  # All different.
        for split, count in counts.items():
            os.makedirs(os.path.join(work, "horse2zebra", split))
            for name in sorted(os.listdir(os.path.join(HORSE2ZEBRA, split)))[:count]:
                shutil.copy(os.path.join(HORSE2ZEBRA, split, name), f"{work}/horse2zebra/{split}")
        prepare_lib.prepare("cycle_gan/horse2zebra", f"{work}/horse2zebra", f"{work}/tfds")
        # Read back by TFDS itself, as any TFDS user would.
        builder = tfds.builder("cycle_gan/horse2zebra", data_dir=f"{work}/tfds")
        self.assertEqual({k: v.num_examples for k, v in builder.info.splits.items()}, counts)
        example = next(iter(builder.as_dataset(split="testB")))
        self.assertEqual(example["image"].shape, (256, 256, 3))
        self.assertEqual(int(example["label"]), 1)  # Domain B.


if __name__ == "__main__":
    tf.test.main()
