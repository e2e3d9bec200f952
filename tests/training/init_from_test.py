"""train --init_from: a new run that starts from another run's networks (here an official
PyTorch generator imported from the committed fixture), and resumes like any run."""

import dataclasses
import json
import os
import tempfile

import tensorflow as tf
from absl import flags

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import config_flags, errors, run_dir
from tf_cyclegan.networks import restore
from tf_cyclegan.pretrained import import_torch_lib
from tf_cyclegan.training import train_lib


class InitFromTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = os.path.join(tempfile.mkdtemp(), "imported")
        fixture = os.path.join(helpers.FIXTURES, "pretrained", "resnet.pth")
        import_torch_lib.import_checkpoints(
            import_torch_lib.ImportConfig(
                cls.source, {"a2b": fixture}, dataset="synthetic", crop_size=32
            )
        )

    def _config(self, model_dir, steps, checkpoint_every=2, **model):
        """A tiny run on the imported generator's architecture, both directions trained."""
        train = {
            "init_from": self.source,
            "train_steps": steps,
            "checkpoint_every": checkpoint_every,
        }
        config = helpers.tiny_config(model_dir, **{f"train.{k}": v for k, v in train.items()})
        source = config_lib.load(self.source).model
        both = dataclasses.replace(source, directions="a2b,b2a", ndf=4, **model)
        return dataclasses.replace(config, model=both)

    def _source_files(self):
        return {
            name: (os.path.getsize(path), os.path.getmtime(path))
            for name in os.listdir(self.source)
            if os.path.isfile(path := os.path.join(self.source, name))
        }

    def test_starts_from_the_source_generator_and_resumes_exactly(self):
        straight_dir = os.path.join(self.get_temp_dir(), "straight")
        before = self._source_files()
        train_lib.train(self._config(straight_dir, 2, checkpoint_every=1))
        with open(os.path.join(straight_dir, run_dir.CONFIG_FILE)) as f:
            self.assertEqual(json.load(f)["train"]["init_from"], self.source)
        # One Adam step moves a weight by about the learning rate (2e-4); a fresh
        # initialisation would differ from the source by ~0.02.
        resumed_dir = helpers.stopped_copy(straight_dir, 1)
        _, first, _ = restore.load_generators(resumed_dir)
        _, source, _ = restore.load_generators(self.source)
        for got, want in zip(first["a2b"].variables, source["a2b"].variables):
            self.assertAllClose(got, want, atol=1e-3, rtol=0, msg=got.path)
        # Resumed, not started again from the source (the config still names it).
        config = self._config(resumed_dir, 2, checkpoint_every=1)
        self.assertEqual(helpers.resumed(self, 1, train_lib.train, config)["step"], 2)
        want, got = (helpers.checkpoint_values(d) for d in (straight_dir, resumed_dir))
        self.assertEqual(set(want), set(got))
        for name in want:
            self.assertAllClose(got[name], want[name], atol=1e-6, rtol=1e-6, msg=name)
        self.assertEqual(self._source_files(), before)  # The source is only read.

    def test_an_architecture_mismatch_is_one_line_naming_the_layer(self):
        model_dir = os.path.join(self.get_temp_dir(), "wide")
        wider = config_lib.load(self.source).model.ngf * 2
        with self.assertRaisesRegex(errors.ConfigError, r"--init_from=.* name \w+_conv/kernel"):
            train_lib.train(self._config(model_dir, 1, ngf=wider))
        self.assertFalse(os.path.exists(os.path.join(model_dir, run_dir.CONFIG_FILE)))

    def test_model_options_not_given_are_the_sources(self):
        flag_values = flags.FlagValues()
        config_flags.define_flags(flag_values=flag_values)
        flag_values(["train", f"--init_from={self.source}", "--ndf=8"])
        config = config_flags.config_from_flags(flag_values=flag_values)
        source = config_lib.load(self.source).model
        self.assertEqual(config.model.generator, source.generator)
        self.assertEqual(config.model.ngf, source.ngf)
        self.assertTrue(config.model.pytorch_compatible)
        self.assertEqual(config.model.ndf, 8)
        self.assertEqual(config.model.generator_directions, ("a2b", "b2a"))


if __name__ == "__main__":
    tf.test.main()
