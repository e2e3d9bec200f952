"""Grayscale (1-channel) domains end to end: train, samples, evaluate, export, translate."""

import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf
from absl.testing import parameterized
from PIL import Image

import helpers
from tf_cyclegan.data import sources
from tf_cyclegan.evaluation import evaluate_lib
from tf_cyclegan.exporting import export_lib
from tf_cyclegan.serving import translate_lib
from tf_cyclegan.training import train_lib


@parameterized.parameters((1, 3))
class GrayscaleTest(tf.test.TestCase, parameterized.TestCase):
    """Domain A grayscale, domain B RGB (the official --input_nc/--output_nc): a2b takes gray
    and writes RGB, b2a the reverse, so each conversion runs both ways. Gray to gray trains
    in labelled_test (the MNIST preset's setup)."""

    _runs = {}

    def _run(self, input_nc, output_nc):
        if (input_nc, output_nc) not in self._runs:
            model_dir = os.path.join(tempfile.mkdtemp(), "run")
            channels = {"model.input_nc": input_nc, "model.output_nc": output_nc}
            # The identity loss needs equal channels (config_checks refuses it otherwise).
            identity = {"loss.lambda_identity": 0.0} if input_nc != output_nc else {}
            config = helpers.tiny_config(model_dir, **channels, **identity)
            result = train_lib.train(helpers.with_train_steps(config, 2))
            export_dir = os.path.join(tempfile.mkdtemp(), "export")
            export_lib.export(
                export_lib.ExportConfig(
                    model_dir,
                    export_dir,
                    quantizations=("float32",),
                    dynamic_tflite=False,
                    parity_images=1,
                )
            )
            self._runs[(input_nc, output_nc)] = (model_dir, export_dir, result)
        return self._runs[(input_nc, output_nc)]

    def test_networks_and_samples_have_each_domains_channels(self, input_nc, output_nc):
        model_dir, _, result = self._run(input_nc, output_nc)
        model = result["model"]
        self.assertEqual(model.generator_a2b.inputs[0].shape[-1], input_nc)
        self.assertEqual(model.generator_a2b.outputs[0].shape[-1], output_nc)
        self.assertEqual(model.discriminator_b.inputs[0].shape[-1], output_nc)
        self.assertEqual(model.pool_a.images.shape[-1], input_nc)
        grid = Image.open(os.path.join(model_dir, "samples", "step_00000002_a2b.png"))
        self.assertEqual(grid.mode, "L" if output_nc == 1 else "RGB")

    def test_saved_model_takes_and_returns_each_domains_channels(self, input_nc, output_nc):
        _, export_dir, _ = self._run(input_nc, output_nc)
        loaded = tf.saved_model.load(os.path.join(export_dir, "saved_model"))
        image = np.random.default_rng(0).integers(0, 255, (1, 20, 28, input_nc), np.uint8)
        out = loaded.signatures["a2b"](images=tf.constant(image))["images"]
        self.assertEqual(out.shape, (1, 20, 28, output_nc))
        back = loaded.signatures["b2a"](images=tf.constant(out))["images"]
        self.assertEqual(back.shape, (1, 20, 28, input_nc))

    def test_translate_reads_any_png_and_writes_the_target_domains_mode(self, input_nc, output_nc):
        model_dir, export_dir, _ = self._run(input_nc, output_nc)
        inputs = tempfile.mkdtemp()
        rgb = np.random.default_rng(1).integers(0, 255, (20, 28, 3), np.uint8)
        Image.fromarray(rgb).save(os.path.join(inputs, "photo.png"))
        for direction, channels in (("a2b", output_nc), ("b2a", input_nc)):
            models = (
                model_dir,
                export_dir,
                os.path.join(export_dir, f"{direction}_float32.tflite"),
            )
            for model in models:
                outputs = tempfile.mkdtemp()
                translate_lib.translate_paths(model, direction, inputs, outputs)
                out = Image.open(os.path.join(outputs, "photo.png"))
                self.assertEqual(out.mode, "L" if channels == 1 else "RGB", (model, direction))
                self.assertEqual(out.size, (28, 20), model)

    def test_standalone_script_translates_with_the_models_channels(self, input_nc, output_nc):
        _, export_dir, _ = self._run(input_nc, output_nc)
        source = os.path.join(tempfile.mkdtemp(), "in.png")
        Image.fromarray(np.full((16, 24, 3), 128, np.uint8)).save(source)
        target = source.replace("in.png", "out.png")
        script = os.path.join(helpers.ROOT, "export", "translate_image.py")
        model = os.path.join(export_dir, "saved_model")
        result = subprocess.run(
            [sys.executable, script, f"--model={model}", f"--input={source}", f"--output={target}"],
            capture_output=True,
            text=True,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertEqual(Image.open(target).mode, "L" if output_nc == 1 else "RGB")

    def test_fid_replicates_gray_to_three_channels(self, input_nc, output_nc):
        _, _, result = self._run(input_nc, output_nc)
        builder = sources.get_builder("synthetic", helpers.synthetic_data_dir())
        results = evaluate_lib.evaluate(
            result["model"].translate,
            builder,
            32,
            helpers.stand_in_inception(),
            channels=(input_nc, output_nc),
        )
        for name in ("a2b/fid", "b2a/kid", "a2b/cycle_mae", "b2a/psnr"):
            self.assertTrue(np.isfinite(results[name]), name)


if __name__ == "__main__":
    tf.test.main()
