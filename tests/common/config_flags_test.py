"""The train flags are generated from the config dataclasses: every option, once."""

import dataclasses
import glob
import os

import tensorflow as tf
from absl import flags
from absl.testing import parameterized

import helpers
from tf_cyclegan.common import architectures, config_checks, config_flags, errors
from tf_cyclegan.common import config as config_lib


def _parse(*argv):
    flag_values = flags.FlagValues()
    config_flags.define_flags(flag_values=flag_values)
    flag_values(["train", *argv])
    return config_flags.config_from_flags(flag_values=flag_values)


class ConfigFlagsTest(tf.test.TestCase, parameterized.TestCase):
    def test_every_field_has_a_flag_with_the_fields_default(self):
        flag_values = flags.FlagValues()
        every_part = [part.name for part in dataclasses.fields(config_lib.Config)]
        config_flags.define_flags(parts=every_part, flag_values=flag_values)
        names, recorded = [], []
        for part in dataclasses.fields(config_lib.Config):
            for field in dataclasses.fields(part.type):
                if field.metadata.get("flag") is False:
                    recorded.append(field.name)
                    continue
                names.append(config_flags.flag_name(field))
                self.assertIn(names[-1], flag_values, field.name)
        # Written by training, import_torch or distill, never chosen on the command line.
        self.assertCountEqual(recorded, ["num_replicas", "directions", "teacher_checkpoint"])
        self.assertLen(set(names), len(names))  # One flag per field, no clashes.
        parsed = _parse()
        self.assertEqual(parsed.train.model_dir, "runs/synthetic")
        defaults = dataclasses.replace(
            config_lib.Config(),
            train=dataclasses.replace(config_lib.Config().train, model_dir="runs/synthetic"),
        )
        self.assertEqual(parsed, defaults)

    @parameterized.parameters("cut", "fastcut")
    def test_a_cut_family_takes_the_official_defaults_the_command_line_does_not_give(self, family):
        config = _parse(f"--model={family}", "--epochs=3", "--pool_size=5")
        for key, value in config_lib.FAMILY_DEFAULTS[family].items():
            part, name = key.split(".")
            if name not in ("epochs", "pool_size"):
                self.assertEqual(getattr(getattr(config, part), name), value, key)
        self.assertEqual((config.optim.epochs, config.loss.pool_size), (3, 5))  # Given.
        self.assertEqual(config.model.generator_directions, ("a2b",))
        self.assertEqual(_parse().model.init_type, "normal")  # CycleGAN's stay.

    def test_an_architecture_registered_after_the_flags_is_accepted_when_checked(self):
        flag_values = flags.FlagValues()
        config_flags.define_flags(flag_values=flag_values)  # As a binary's import does.
        extra = architectures.Generator("resnet_2blocks", "resnet", 2, 4)
        architectures.register(extra)
        self.addCleanup(architectures.GENERATORS.pop, extra.name)
        flag_values(["train", f"--generator={extra.name}"])
        config = config_flags.config_from_flags(flag_values=flag_values)
        config_checks.validate(config)  # The registry is read now.
        self.assertEqual(config.model.generator, extra.name)
        unknown = dataclasses.replace(config.model, generator="resnet_99blocks")
        with self.assertRaisesRegex(errors.ConfigError, "unknown generator 'resnet_99blocks'"):
            config_checks.validate(dataclasses.replace(config, model=unknown))

    def test_train_takes_no_distillation_flags(self):
        flag_values = flags.FlagValues()
        config_flags.define_flags(flag_values=flag_values)
        self.assertNotIn("teacher", flag_values)
        self.assertIsNone(_parse().distill.teacher)

    def test_values_reach_their_fields(self):
        config = _parse(
            "--dataset=cycle_gan/horse2zebra",
            "--no_flip",
            "--beta2=0.99",
            "--mixed_precision=bfloat16",
            "--generator=unet_256",
        )
        self.assertFalse(config.data.flip)
        self.assertEqual(config.optim.beta2, 0.99)
        self.assertEqual(config.train.mixed_precision, "bfloat16")
        self.assertEqual(config.model.generator, "unet_256")
        self.assertEqual(config.train.model_dir, "runs/cycle_gan_horse2zebra")

    def test_a_value_outside_the_choices_is_refused(self):
        with self.assertRaises(flags.IllegalFlagValueError):
            _parse("--norm=group")

    @parameterized.parameters(
        (["--input_nc=2"], "--input_nc=2: images have 3 channels"),
        (["--input_nc=1"], "--lambda_identity=0"),  # 1 -> 3 channels with the identity loss.
    )
    def test_channels_that_cannot_train_are_refused(self, argv, message):
        with self.assertRaisesRegex(errors.ConfigError, message):
            config_checks.validate(_parse(*argv))

    def test_grayscale_to_rgb_trains_without_the_identity_loss(self):
        config_checks.validate(_parse("--input_nc=1", "--lambda_identity=0"))

    @parameterized.parameters(
        p
        for p in sorted(glob.glob(os.path.join(helpers.ROOT, "flags", "*.cfg")))
        if "distill" not in p
    )
    def test_preset_parses_into_a_valid_config(self, path):
        # distill's presets: distill_test.DistillCommandTest.
        config_checks.validate(_parse(f"--flagfile={path}"))


if __name__ == "__main__":
    tf.test.main()
