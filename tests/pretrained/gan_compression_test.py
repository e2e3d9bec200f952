"""GAN Compression's compressed CycleGAN generators, imported without PyTorch.

Fixtures by tools/gan_compression_reference.py (torch 2.13 CPU, GAN Compression's own
SubMobileResnetGenerator): config 4_8_4_2_4_6_4_2 (every width differs), every tensor saved
as a view into a larger storage (an offset, strides that skip elements), in the legacy and
the zip format; inputs partly beyond [-1, 1]. Tolerance: 1e-4 on [-1, 1] outputs, as the
official imports; float32 rounding through these ~50 layers stays near 1e-6, so a wrong
stride, kernel layout, padding or clamp is far above it.
"""

import dataclasses
import os
import tempfile

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
import tiny_generator
from tf_cyclegan.common import errors
from tf_cyclegan.distillation import distill_lib
from tf_cyclegan.networks import restore
from tf_cyclegan.pretrained import gan_compression, import_torch_lib
from tf_cyclegan.serving import translators
from tf_cyclegan.torch_files import pth

FIXTURES = os.path.join(helpers.FIXTURES, "pretrained")
CONFIG = "4_8_4_2_4_6_4_2"
TOLERANCE = 1e-4


def _import(path, directory, direction="a2b", **options):
    model_dir = os.path.join(directory, "run")
    cfg = import_torch_lib.ImportConfig(model_dir, {direction: path}, **options)
    import_torch_lib.import_checkpoints(cfg)
    return model_dir


class GanCompressionImportTest(tf.test.TestCase, parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        legacy = os.path.join(FIXTURES, "sub_mobile_legacy.pth")
        cls.model_dir = _import(legacy, tempfile.mkdtemp())
        cls.inputs = np.load(os.path.join(FIXTURES, "sub_mobile_inputs.npy"))
        cls.outputs = np.load(os.path.join(FIXTURES, "sub_mobile_outputs.npy"))

    def test_the_architecture_is_read_from_the_shapes(self):
        config, _, _ = restore.load_generators(self.model_dir)
        self.assertEqual(config.model.generator, gan_compression.GENERATOR)
        self.assertEqual(config.model.sub_mobile_config, CONFIG)

    def test_imported_generator_matches_gan_compressions_forward_pass(self):
        _, generators, _ = restore.load_generators(self.model_dir)
        self.assertAllClose(generators["a2b"](self.inputs), self.outputs, atol=TOLERANCE)

    @parameterized.parameters("sub_mobile.pth", "sub_mobile_legacy.pth")
    def test_strided_views_read_as_the_values_they_show(self, name):
        # Both files hold the same views of different storages (zip and legacy layouts).
        state = pth.load_state_dict(os.path.join(FIXTURES, name))
        reference = pth.load_state_dict(os.path.join(FIXTURES, "sub_mobile.pth"))
        self.assertLen(state, 84)
        for key, value in reference.items():
            self.assertAllEqual(state[key], value, key)

    def test_the_held_direction_translates_and_the_other_is_one_clear_error(self):
        translate = translators.load(self.model_dir, "a2b")
        image = np.uint8((self.inputs[:1].clip(-1, 1) + 1) * 127.5)
        self.assertEqual(translate(image).shape, (1, 24, 32, 3))
        with self.assertRaisesRegex(errors.ConfigError, "holds only the a2b generator"):
            translators.load(self.model_dir, "b2a")

    def test_a_wrong_architecture_request_names_the_key(self):
        path = os.path.join(FIXTURES, "sub_mobile.pth")
        with self.assertRaisesRegex(errors.ConfigError, r"model\.10\.conv_block\.1\.conv\.0"):
            _import(path, self.get_temp_dir(), generator="resnet_9blocks")
        official = os.path.join(FIXTURES, "resnet.pth")
        with self.assertRaisesRegex(errors.ConfigError, r"model\.10\.conv_block\.1\.weight"):
            _import(official, self.get_temp_dir(), generator=gan_compression.GENERATOR)


class TeacherTest(tf.test.TestCase):
    def test_an_imported_sub_mobile_run_teaches_a_student(self):
        teacher = _import(os.path.join(FIXTURES, "sub_mobile.pth"), self.get_temp_dir())
        base = helpers.tiny_config(
            os.path.join(self.get_temp_dir(), "student"), **{"train.train_steps": 1}
        )
        config = distill_lib.from_teacher(
            dataclasses.replace(base, distill=dataclasses.replace(base.distill, teacher=teacher)),
            tiny_generator.STUDENT_NAME,
            None,
            given={"train_steps", "dataset", "data_dir", "load_size", "crop_size", "batch_size"},
        )
        self.assertIsNone(config.model.sub_mobile_config)  # The student's, not the teacher's.
        self.assertEqual(distill_lib.distill(config)["step"], 1)


class LayoutTest(tf.test.TestCase):
    def test_widths_no_config_string_gives_are_named_before_reading(self):
        with pth.open_state_dict(os.path.join(FIXTURES, "sub_mobile.pth")) as tensors:
            shapes = {k: np.empty(t.shape, np.float32) for k, t in tensors.items()}
        shapes["model.11.conv_block.1.conv.2.weight"] = np.empty((12, 16, 1, 1), np.float32)
        with self.assertRaisesRegex(pth.PthError, r"model\.10\.conv_block\.1\.conv\.2\.weight"):
            gan_compression.check_layout(shapes)

    def test_expected_shapes_follow_their_code(self):
        shapes = gan_compression.expected_shapes("16_16_32_16_32_32_16_16")
        self.assertEqual(shapes["model.7.weight"], (128, 32, 3, 3))
        self.assertEqual(shapes["model.10.conv_block.1.conv.2.weight"], (64, 128, 1, 1))
        self.assertEqual(shapes["model.13.conv_block.6.conv.0.weight"], (128, 1, 3, 3))
        self.assertEqual(shapes["model.19.weight"], (128, 32, 3, 3))
        self.assertEqual(sum(np.prod(s) for s in shapes.values()), 356867)  # Their README.


if __name__ == "__main__":
    tf.test.main()
