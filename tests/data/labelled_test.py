"""Two domains out of a labelled TFDS dataset, built here (nothing downloads)."""

import os
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from absl.testing import parameterized

import helpers
from tf_cyclegan.common import errors, reachability
from tf_cyclegan.data import pipeline, sources
from tf_cyclegan.training import train_lib

CLASSES = ["zero", "one", "two"]


class TinyDigits(tfds.core.GeneratorBasedBuilder):
    """12x12 grayscale images whose pixels hold 10 x (label + 1): the label is visible."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(12, 12, 1)),
                    "label": tfds.features.ClassLabel(names=CLASSES),
                    "attributes": {"odd": tf.bool},
                }
            ),
        )

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(30), "test": self._generate_examples(9)}

    def _generate_examples(self, count):
        for i in range(count):
            label = i % 3
            image = np.full((12, 12, 1), 10 * (label + 1), np.uint8)
            yield i, {"image": image, "label": label, "attributes": {"odd": bool(i % 2)}}


class TinyDigitsNoTest(TinyDigits):
    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(30)}


def _data_dir():
    data_dir = tempfile.mkdtemp(prefix="tfds_labelled_")
    for builder in (TinyDigits, TinyDigitsNoTest):
        builder(data_dir=data_dir).download_and_prepare()
    return data_dir


def _pixels(builder, split):
    """The first pixel of every image of ``split`` (decoded as the pipeline does: RGB)."""
    ds = sources.encoded(builder, split, None).map(lambda x: pipeline.decode(x)[0, 0])
    return [tuple(p) for p in tfds.as_numpy(ds)]


class LabelledDomainsTest(tf.test.TestCase, parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_dir = _data_dir()

    def test_class_name_and_index_pick_the_domains_with_the_test_split(self):
        builder = sources.get_builder("tfds:tiny_digits:zero:2", self.data_dir)
        counts = {s: builder.info.splits[s].num_examples for s in ("trainA", "trainB", "testA")}
        self.assertEqual(counts, {"trainA": 10, "trainB": 10, "testA": 3})
        self.assertEqual(set(_pixels(builder, "trainA")), {(10, 10, 10)})  # zero, as RGB
        self.assertEqual(set(_pixels(builder, "testB")), {(30, 30, 30)})  # two

    def test_boolean_attribute_picks_a_domain(self):
        spec = "tfds:tiny_digits:attributes/odd=false:attributes/odd=true"
        builder = sources.get_builder(spec, self.data_dir)
        self.assertEqual(builder.info.splits["trainA"].num_examples, 15)
        self.assertEqual(builder.info.splits["trainB"].num_examples, 15)

    def test_without_a_test_split_the_first_images_are_held_out(self):
        builder = sources.get_builder("tfds:tiny_digits_no_test:0:1", self.data_dir)
        self.assertEqual(builder.info.splits["testA"].num_examples, 1)
        self.assertEqual(builder.info.splits["trainA"].num_examples, 9)

    def test_unknown_class_lists_the_classes(self):
        with self.assertRaisesRegex(errors.ConfigError, "no class 'three'.*zero, one, two"):
            sources.get_builder("tfds:tiny_digits:zero:three", self.data_dir)

    @parameterized.parameters("1:1", "one:1", "1:01", "attributes/odd=true:attributes/odd=True")
    def test_the_same_domain_twice_is_refused_however_spelled(self, domains):
        with self.assertRaisesRegex(errors.ConfigError, "domains A and B are the same"):
            sources.get_builder(f"tfds:tiny_digits:{domains}", self.data_dir)

    def test_an_unknown_dataset_is_one_line_with_close_names(self):
        with self.assertRaises(errors.ConfigError) as caught:
            sources.get_builder("tfds:tiny_digitz:0:1", self.data_dir)
        message = str(caught.exception)
        self.assertNotIn("\n", message)
        self.assertRegex(message, "'tiny_digitz' is not a TFDS dataset; did you mean tiny_digits")

    def test_malformed_spec_shows_the_form(self):
        with self.assertRaisesRegex(errors.ConfigError, "tfds:<name>:<domain A>:<domain B>"):
            sources.get_builder("tfds:tiny_digits:zero", self.data_dir)

    def test_unprepared_source_offline_names_the_command_that_prepares_it(self):
        empty = tempfile.mkdtemp()
        with mock.patch.object(reachability, "host_reachable", return_value=False):
            with self.assertRaisesRegex(errors.DataUnavailableError, "tfds build mnist"):
                sources.get_builder("tfds:mnist:0:1", empty)
        self.assertEqual(os.listdir(empty), [])

    def test_trains_and_resumes_on_labelled_domains(self):
        model_dir = os.path.join(tempfile.mkdtemp(), "run")
        overrides = {
            "data.dataset": "tfds:tiny_digits:0:1",
            "data.data_dir": self.data_dir,
            "data.max_dataset_size": 6,  # 12x12 images, resized to the tiny config's 36.
        }
        config = helpers.tiny_config(model_dir, **overrides)
        train_lib.train(helpers.with_train_steps(config, 1))
        result = train_lib.train(helpers.with_train_steps(config, 2))
        self.assertEqual(result["step"], 2)

    def test_grayscale_digits_train_at_28_pixels_as_the_mnist_preset(self):
        model_dir = os.path.join(tempfile.mkdtemp(), "run")
        overrides = {
            "data.dataset": "tfds:tiny_digits:0:1",
            "data.data_dir": self.data_dir,
            "data.load_size": 32,
            "data.crop_size": 28,
            "model.input_nc": 1,
            "model.output_nc": 1,
        }
        result = train_lib.train(helpers.tiny_config(model_dir, **overrides))
        self.assertEqual(result["model"].generator_a2b.outputs[0].shape[-1], 1)
        self.assertTrue(np.isfinite(result["eval"]["a2b/cycle_mae"]))


if __name__ == "__main__":
    tf.test.main()
