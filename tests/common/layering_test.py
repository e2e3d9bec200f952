"""The package's import graph follows its declared layers (layers.bzl), with the commands on
top: no cycles, no upward imports, no imports inside functions."""

import importlib.util
import os

import tensorflow as tf

import helpers


def _checker():
    path = os.path.join(helpers.ROOT, "tools", "check_layers.py")
    spec = importlib.util.spec_from_file_location("check_layers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LayeringTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.checker = _checker()
        self.layers = self.checker.load_layers()

    def test_every_import_goes_down_the_declared_layers(self):
        self.assertEqual(self.checker.violations(self.checker.all_files(), self.layers), [])

    def test_an_import_the_layers_do_not_allow_is_reported(self):
        # serving imports networks; declared as if it could not, that import is named.
        narrower = {**self.layers, "serving": ["common", "data"]}
        problems = self.checker.violations(self.checker.all_files(), narrower)
        self.assertNotEmpty(problems)
        self.assertTrue(all("'serving' imports 'networks'" in p for p in problems), problems)

    def test_the_top_level_holds_only_the_commands(self):
        top = os.path.join(helpers.ROOT, "tf_cyclegan")
        modules = {f[:-3] for f in os.listdir(top) if f.endswith(".py")}
        commands = {"train", "distill", "evaluate", "fid", "export", "translate", "prepare"}
        self.assertEqual(modules, commands | {"import_torch", "flops", "__init__"})
        packages = {d for d in os.listdir(top) if os.path.isdir(os.path.join(top, d))}
        self.assertEqual(packages - {"__pycache__"}, set(self.layers))


if __name__ == "__main__":
    tf.test.main()
