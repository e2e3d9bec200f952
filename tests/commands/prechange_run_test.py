"""A run directory written before the restructuring (tests/fixtures/prechange_run) keeps
resuming, exporting and translating: checkpoint keys, config.json and file names are an API.

The fixture is ``helpers.tiny_config`` trained 2 steps by the code of commit fc54380 (the
flat package, before the layered one), keeping its checkpoint, state file and config.json.
"""

import dataclasses
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf
from PIL import Image

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.exporting import export_lib
from tf_cyclegan.networks import restore
from tf_cyclegan.serving import translate_lib
from tf_cyclegan.training import train_lib

FIXTURE = os.path.join(helpers.FIXTURES, "prechange_run")


def _copy():
    run = os.path.join(tempfile.mkdtemp(), "run")
    shutil.copytree(FIXTURE, run)
    return run


def _as_here(config, model_dir, steps):
    """The fixture's own config with this machine's paths: the options a user may change."""
    data = dataclasses.replace(config.data, data_dir=helpers.synthetic_data_dir())
    train = dataclasses.replace(config.train, model_dir=model_dir, train_steps=steps)
    return dataclasses.replace(config, data=data, train=train)


class PrechangeRunTest(tf.test.TestCase):
    def test_it_resumes_from_its_step_with_its_weights(self):
        run = _copy()
        config = config_lib.load(run)
        # A checkpoint stores each variable once, at its first path in the object graph:
        # generator_a2b's stem kernel is the generator optimizer's first variable.
        first = "model/generator_optimizer/_trainable_variables/0/.ATTRIBUTES/VARIABLE_VALUE"
        saved = tf.train.load_variable(os.path.join(run, "ckpt-2"), first)
        _, generators, _ = restore.load_generators(run)
        self.assertAllEqual(generators["a2b"].get_layer("stem_conv").kernel.numpy(), saved)
        result = train_lib.train(_as_here(config, run, 3))
        self.assertEqual(result["step"], 3)
        self.assertEndsWith(tf.train.latest_checkpoint(run), "ckpt-3")

    def test_it_exports_and_translates(self):
        run = _copy()
        export_dir = os.path.join(tempfile.mkdtemp(), "exported")
        report = export_lib.export(
            export_lib.ExportConfig(run, export_dir, formats=("saved_model",), parity_images=2)
        )
        self.assertEndsWith(report["checkpoint"], "ckpt-2")
        image = os.path.join(tempfile.mkdtemp(), "in.png")
        Image.fromarray(np.full((40, 48, 3), 200, np.uint8)).save(image)
        out = os.path.join(tempfile.mkdtemp(), "out")
        for model in (run, export_dir):
            summary = translate_lib.translate_paths(model, "a2b", image, out, overwrite=True)
            self.assertEqual(summary["translated"], 1)
        with Image.open(os.path.join(out, "in.png")) as translated:
            self.assertEqual(translated.size, (48, 40))


if __name__ == "__main__":
    tf.test.main()
