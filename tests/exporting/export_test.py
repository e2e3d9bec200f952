"""Export: every variant with its parity, the SavedModel contract, translating exports."""

import json
import os
import subprocess
import sys
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import conventions, errors
from tf_cyclegan.exporting import parity
from tf_cyclegan.networks import restore
from tf_cyclegan.serving import litert, translate_lib, translators
from tf_cyclegan.training import train_lib


class ExportTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model_dir = helpers.trained_run()
        cls.export_dir = os.path.join(tempfile.mkdtemp(), "exported")
        cls.report = helpers.export(cls.model_dir, cls.export_dir)

    def test_writes_every_variant_with_its_measured_parity(self):
        with open(os.path.join(self.export_dir, "export_report.json")) as f:
            report = json.load(f)
        expected = {
            f"{d}_{v}"
            for d in ("a2b", "b2a")
            for v in (
                "float32",
                "float16",
                "dynamic_range",
                "int8",
                "float32_dynamic",
                "float32_tiled",
            )
        }
        self.assertEqual(set(report["artifacts"]), expected | {"saved_model"})
        for name, figures in report["artifacts"].items():
            self.assertTrue(os.path.exists(os.path.join(self.export_dir, figures["path"])), name)
            self.assertGreater(figures["size_bytes"], 0)
            variant = "saved_model" if name == "saved_model" else name.split("_", 1)[1]
            floor = parity.PSNR_FLOORS_DB.get(variant.replace("_dynamic", ""))
            if floor:
                self.assertGreaterEqual(figures["psnr_db"], floor, name)
            if name != "saved_model":
                self.assertGreater(figures["latency_ms"]["1"], 0)
                self.assertGreater(figures["latency_ms"]["2"], 0)
        self.assertTrue(os.path.exists(os.path.join(self.export_dir, "config.json")))

    def test_saved_model_stores_each_weight_once(self):
        _, generators, _ = restore.load_generators(self.model_dir)
        expected = sum(len(g.variables) for g in generators.values())
        index = os.path.join(self.export_dir, "saved_model", "variables", "variables")
        stored = [n for n, _ in tf.train.list_variables(index) if n.endswith("VARIABLE_VALUE")]
        self.assertLen(stored, expected)

    def test_tflite_files_use_builtin_ops_only(self):
        for name in os.listdir(self.export_dir):
            if name.endswith(".tflite"):
                ops = litert.TfliteModel(os.path.join(self.export_dir, name)).op_names()
                self.assertIn("CONV_2D", ops, name)
                self.assertEmpty([op for op in ops if op.startswith("Flex") or op == "CUSTOM"])

    def test_int8_runs_integer_convolutions(self):
        interpreter = Interpreter(os.path.join(self.export_dir, "a2b_int8.tflite"))
        tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
        convs = [op for op in interpreter._get_ops_details() if op["op_name"] == "CONV_2D"]
        self.assertNotEmpty(convs)
        for op in convs:
            self.assertEqual(tensors[op["inputs"][0]]["dtype"], np.int8)
            self.assertEqual(tensors[op["inputs"][1]]["dtype"], np.int8)

    def test_saved_model_loads_where_tf_cyclegan_cannot_be_imported(self):
        script = (
            "import sys; sys.modules['tf_cyclegan'] = None\n"  # Any import of it now fails.
            "import numpy as np, tensorflow as tf\n"
            f"m = tf.saved_model.load({os.path.join(self.export_dir, 'saved_model')!r})\n"
            "for h, w in ((37, 53), (301, 199), (5, 3)):\n"
            "    x = tf.constant(np.random.randint(0, 255, (2, h, w, 3), np.uint8))\n"
            "    for d in ('a2b', 'b2a'):\n"
            "        y = m.signatures[d](images=x)['images']\n"
            "        assert y.shape == x.shape and y.dtype == tf.uint8, (d, y.shape)\n"
            "    f = m.signatures['a2b_float'](images=tf.zeros([1, h, w, 3]))['images']\n"
            "    assert f.shape == (1, h, w, 3) and f.dtype == tf.float32\n"
            "print('ok')\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=tempfile.mkdtemp(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn("ok", result.stdout)

    def test_translate_keeps_odd_sizes_modes_and_names_and_skips_bad_files(self):
        inputs = tempfile.mkdtemp()
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 255, (37, 53, 3), np.uint8)).save(f"{inputs}/a.jpg")
        Image.fromarray(rng.integers(0, 255, (301, 199), np.uint8)).save(f"{inputs}/b.png")
        Image.fromarray(rng.integers(0, 255, (16, 16, 4), np.uint8)).save(f"{inputs}/c.png")
        with open(f"{inputs}/d.jpg", "wb") as f:
            f.write(b"not an image")
        models = (
            self.model_dir,
            os.path.join(self.export_dir, "saved_model"),
            os.path.join(self.export_dir, "a2b_float32_dynamic.tflite"),
            os.path.join(self.export_dir, "a2b_float16.tflite"),
        )
        for model in models:
            outputs = tempfile.mkdtemp()  # One folder per model: each must write all three.
            summary = translate_lib.translate_paths(model, "a2b", inputs, outputs)
            self.assertEqual(summary["translated"], 3, model)
            self.assertEqual([os.path.basename(p) for p, _ in summary["skipped"]], ["d.jpg"])
            sizes = {n: Image.open(f"{outputs}/{n}").size for n in os.listdir(outputs)}
            self.assertEqual(sizes, {"a.png": (53, 37), "b.png": (199, 301), "c.png": (16, 16)})

    def _inputs(self, names, size=(20, 28)):
        folder = tempfile.mkdtemp()
        rng = np.random.default_rng(1)
        for name in names:
            Image.fromarray(rng.integers(0, 255, (*size, 3), np.uint8)).save(f"{folder}/{name}")
        return folder

    def test_translate_skips_an_image_past_the_pixel_limit_with_what_to_do(self):
        folder, out = self._inputs(["huge.png", "fine.png"], size=(30, 30)), tempfile.mkdtemp()
        Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(f"{folder}/fine.png")
        with mock.patch.object(Image, "MAX_IMAGE_PIXELS", 200):  # huge.png: 900 > 2 * 200.
            summary = translate_lib.translate_paths(self.model_dir, "a2b", folder, out)
        self.assertEqual(summary["translated"], 1)
        [(path, reason)] = summary["skipped"]
        self.assertEqual(os.path.basename(path), "huge.png")
        self.assertRegex(reason, "too large.*downscale or crop")

    def test_translate_never_overwrites_an_input(self):
        folder = self._inputs(["x.png", "y.jpg"])
        with open(f"{folder}/x.png", "rb") as f:
            before = f.read()
        for overwrite in (False, True):
            with self.assertRaisesRegex(errors.ConfigError, "overwrite the input"):
                translate_lib.translate_paths(
                    self.model_dir, "a2b", folder, folder, overwrite=overwrite
                )
        with open(f"{folder}/x.png", "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertFalse(os.path.exists(f"{folder}/y.png"))  # Refused before writing anything.

    def test_translate_keeps_colliding_names_apart_and_existing_outputs_need_overwrite(self):
        folder, out = self._inputs(["x.jpg", "x.png", "z.webp", "t.tif"]), tempfile.mkdtemp()
        summary = translate_lib.translate_paths(self.model_dir, "a2b", folder, out)
        self.assertEqual(summary["translated"], 4)
        self.assertEqual(sorted(os.listdir(out)), ["t.png", "x.jpg.png", "x.png.png", "z.png"])
        with self.assertRaisesRegex(errors.ConfigError, "exist already"):
            translate_lib.translate_paths(self.model_dir, "a2b", folder, out)
        summary = translate_lib.translate_paths(self.model_dir, "a2b", folder, out, overwrite=True)
        self.assertEqual(summary["translated"], 4)

    def test_translate_refuses_a_tflite_of_the_other_direction(self):
        renamed = os.path.join(tempfile.mkdtemp(), "zebras.tflite")  # The name says nothing.
        with open(os.path.join(self.export_dir, "a2b_float16.tflite"), "rb") as f:
            data = f.read()
        with open(renamed, "wb") as f:
            f.write(data)
        with self.assertRaisesRegex(errors.ConfigError, "translates a2b.*--direction=b2a"):
            translators.load(renamed, "b2a")

    def test_translate_accepts_the_export_directory(self):
        folder, out = self._inputs(["x.png"]), tempfile.mkdtemp()
        summary = translate_lib.translate_paths(self.export_dir, "b2a", folder, out)
        self.assertEqual(summary["translated"], 1)

    def test_standalone_script_runs_a_tflite_file(self):
        image = os.path.join(tempfile.mkdtemp(), "in.png")
        Image.fromarray(np.zeros((40, 24, 3), np.uint8)).save(image)
        out = image.replace("in.png", "out.png")
        model = os.path.join(self.export_dir, "b2a_float32.tflite")
        result = subprocess.run(
            [
                sys.executable,
                "export/translate_image.py",
                f"--model={model}",
                f"--input={image}",
                f"--output={out}",
            ],
            cwd=helpers.ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertEqual(Image.open(out).size, (24, 40))

    def test_large_photo_is_tiled_alike_by_every_form_and_the_standalone_script(self):
        # Above 2 megapixels: tiled everywhere (TensorFlow and LiteRT budgets), each form
        # with the statistics of a downscaled copy.
        rng = np.random.default_rng(2)
        image = np.repeat(np.repeat(rng.integers(0, 256, (350, 400, 3), np.uint8), 4, 0), 4, 1)
        path = os.path.join(tempfile.mkdtemp(), "big.png")
        Image.fromarray(image).save(path)
        forms = {
            "run": self.model_dir,
            "saved_model": f"{self.export_dir}/saved_model",
            "tflite": f"{self.export_dir}/a2b_float32_tiled.tflite",
        }
        outputs = {}
        for name, model in forms.items():
            translator = translators.load(model, "a2b")
            self.assertIsNotNone(translator.tile, name)
            outputs[name] = translator.translate_image(image)
            if name == "run":  # The standalone script reads exports only.
                continue
            out = path.replace("big.png", f"{name}.png")
            result = subprocess.run(
                [
                    sys.executable,
                    "export/translate_image.py",
                    f"--model={model}",
                    f"--input={path}",
                    f"--output={out}",
                ],
                cwd=helpers.ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            self.assertEqual(result.returncode, 0, result.stderr[-2000:])
            # Its process splits ops over TensorFlow's default threads, this one runs one
            # thread per op (conftest.py): float sums in another order, so a pixel may cross
            # a rounding step, never more.
            script = np.asarray(Image.open(out)).astype(int)
            self.assertLessEqual(np.abs(script - outputs[name]).max(), 1)
        # TensorFlow forms share one budget: the same math, so a rounding step at most.
        difference = outputs["run"].astype(int) - outputs["saved_model"]
        self.assertLessEqual(np.abs(difference).max(), 1)
        # LiteRT's smaller statistics copy is another approximation of the same image.
        run, tflite = (conventions.to_float(outputs[name]) for name in ("run", "tflite"))
        figures = parity.compare(run, tflite)
        self.assertGreater(figures["psnr_db"], 25)

    def test_existing_export_dir_is_refused_without_overwrite(self):
        with self.assertRaisesRegex(errors.ConfigError, "--overwrite"):
            helpers.export(self.model_dir, self.export_dir)

    def test_missing_checkpoint_is_a_clear_error(self):
        empty = tempfile.mkdtemp()
        config_lib.save(config_lib.load(self.model_dir), empty)
        with self.assertRaisesRegex(errors.RunDirError, "no checkpoint in"):
            helpers.export(empty, os.path.join(empty, "out"))

    def test_incompatible_checkpoint_is_a_clear_error(self):
        other = tempfile.mkdtemp()
        config = config_lib.load(self.model_dir)
        wider = config_lib.Config.from_dict(
            {
                **json.loads(config.to_json()),
                "model": {**json.loads(config.to_json())["model"], "ngf": 8},
            }
        )
        config_lib.save(wider, other)
        checkpoint = tf.train.latest_checkpoint(self.model_dir)
        with self.assertRaisesRegex(errors.RunDirError, "does not restore.*ngf=8"):
            helpers.export(other, os.path.join(other, "out"), checkpoint=checkpoint)

    def test_unknown_quantization_is_named(self):
        with self.assertRaisesRegex(ValueError, "--quantization=int4"):
            helpers.export(self.model_dir, tempfile.mkdtemp() + "/x", quantizations=("int4",))


class UnetExportTest(tf.test.TestCase):
    def test_unet_exports_to_float32_and_full_int8_and_runs_in_litert(self):
        # int8 U-Nets with instance norm once failed at allocate_tensors (TF issue 59922).
        model_dir = os.path.join(tempfile.mkdtemp(), "unet")
        overrides = {
            "model.generator": "unet_128",
            "data.crop_size": 128,
            "data.load_size": 128,
            "train.train_steps": 1,
        }
        train_lib.train(helpers.tiny_config(model_dir, **overrides))
        report = helpers.export(
            model_dir,
            os.path.join(model_dir, "out"),
            parity_images=1,
            quantizations=("float32", "int8"),
            dynamic_tflite=False,
        )
        self.assertGreaterEqual(report["artifacts"]["a2b_float32"]["psnr_db"], 50.0)
        self.assertIn("b2a_int8", report["artifacts"])


if __name__ == "__main__":
    tf.test.main()
