"""Importing the official PyTorch generators, against PyTorch's own outputs (no PyTorch here).

The fixtures were written by tools/make_torch_fixtures.py with torch 2.13 (CPU). Tolerance:
the issue's contract, 1e-4 max abs error on [-1, 1] outputs; float32 rounding through these
~20-layer networks stays near 1e-6, so a wrong padding, kernel layout or skip is far above it.
"""

import io
import os
import pickle
import tarfile
import tempfile
import zipfile
from unittest import mock

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import errors
from tf_cyclegan.exporting import export_lib
from tf_cyclegan.networks import models, restore
from tf_cyclegan.pretrained import import_torch_lib, official
from tf_cyclegan.serving import translators
from tf_cyclegan.torch_files import pth

FIXTURES = os.path.join(helpers.FIXTURES, "pretrained")
TOLERANCE = 1e-4


def _fixture(name):
    return os.path.join(FIXTURES, name)


def _reference(case):
    return np.load(_fixture(f"{case}_inputs.npy")), np.load(_fixture(f"{case}_outputs.npy"))


def _keras(path, **model_overrides):
    state = official.clean(pth.load_state_dict(path))
    arch = official.infer(state)
    model_config = config_lib.ModelConfig(
        generator=arch["generator"],
        ngf=arch["ngf"],
        use_dropout=arch["use_dropout"],
        pytorch_compatible=True,
        **model_overrides,
    )
    net = models.build_generator(model_config)
    official.assign(net, state, arch["generator"], arch["use_dropout"])
    return net


class _Evil:
    """Unpickling this runs os.system: what a malicious .pth would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class PthReaderTest(tf.test.TestCase, parameterized.TestCase):
    def test_zip_and_legacy_formats_read_the_same_tensors(self):
        new = pth.load_state_dict(_fixture("resnet.pth"))
        legacy = pth.load_state_dict(_fixture("resnet_legacy.pth"))
        self.assertEqual(list(new), list(legacy))
        for key in new:
            self.assertAllEqual(new[key], legacy[key])
        self.assertEqual(new["model.1.weight"].shape, (4, 3, 7, 7))
        self.assertEqual(new["model.1.weight"].dtype, np.float32)

    @parameterized.parameters("zip", "legacy", "tar")
    def test_a_pickle_that_would_run_code_is_refused_before_it_runs(self, form):
        marker = os.path.join(self.get_temp_dir(), f"ran_{form}")
        payload = pickle.dumps(_Evil(marker), protocol=2)
        path = os.path.join(self.get_temp_dir(), f"evil_{form}.pth")
        if form == "zip":
            with zipfile.ZipFile(path, "w") as z:
                z.writestr("archive/data.pkl", payload)
        elif form == "tar":
            with tarfile.open(path, "w") as t:
                for member in ("storages", "tensors", "pickle"):
                    info = tarfile.TarInfo(member)
                    info.size = len(payload)
                    t.addfile(info, io.BytesIO(payload))
        else:
            with open(path, "wb") as f:
                f.write(payload)
        with self.assertRaisesRegex(pth.PthError, "system.*refusing"):
            pth.load_state_dict(path)
        self.assertFalse(os.path.exists(marker))

    def test_damaged_file_is_one_clear_error(self):
        path = os.path.join(self.get_temp_dir(), "cut.pth")
        with open(_fixture("resnet_legacy.pth"), "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
        with self.assertRaises(pth.PthError):
            pth.load_state_dict(path)

    def test_tar_format_reads_the_same_tensors(self):
        new = pth.load_state_dict(_fixture("resnet.pth"))
        old = pth.load_state_dict(_fixture("resnet_tar.pth"))
        self.assertEqual(list(new), list(old))
        for key in new:
            self.assertAllEqual(new[key], old[key])

    def test_tar_without_its_members_is_one_clear_error(self):
        path = os.path.join(self.get_temp_dir(), "old.pth")
        with tarfile.open(path, "w") as t:
            t.addfile(tarfile.TarInfo("pickle"), io.BytesIO(b""))
        with self.assertRaisesRegex(pth.PthError, "damaged tar-format"):
            pth.load_state_dict(path)


class OfficialMappingTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(
        ("resnet.pth", "resnet_square"),
        ("resnet.pth", "resnet_wide"),  # Non-square: 24x40.
        ("resnet_legacy.pth", "resnet_square"),
        ("resnet_tar.pth", "resnet_square"),  # The first PyTorch releases' format.
        ("resnet_dropout.pth", "resnet_dropout"),  # Dropout shifts the block keys.
        ("resnet_module_prefix.pth", "resnet_square"),  # DataParallel + stale statistics.
        ("unet.pth", "unet"),
        ("unet_legacy.pth", "unet"),
    )
    def test_imported_generator_matches_pytorch(self, file, case):
        images, expected = _reference(case)
        actual = _keras(_fixture(file))(images, training=False).numpy()
        self.assertLess(np.abs(actual - expected).max(), TOLERANCE)

    def test_keras_padding_does_not_match_pytorch(self):
        # Guards the test above: without the PyTorch layout the same weights differ.
        state = official.clean(pth.load_state_dict(_fixture("resnet.pth")))
        net = models.build_generator(config_lib.ModelConfig(generator="resnet_6blocks", ngf=4))
        official.assign(net, state, "resnet_6blocks")
        images, expected = _reference("resnet_square")
        self.assertGreater(np.abs(net(images, training=False).numpy() - expected).max(), 1e-2)

    def test_architecture_is_read_from_the_keys(self):
        for file, generator, ngf, dropout in (
            ("resnet.pth", "resnet_6blocks", 4, False),
            ("resnet_dropout.pth", "resnet_6blocks", 2, True),
            ("unet.pth", "unet_128", 2, False),
        ):
            state = official.clean(pth.load_state_dict(_fixture(file)))
            self.assertEqual(
                official.infer(state), {"generator": generator, "ngf": ngf, "use_dropout": dropout}
            )

    def test_batch_norm_generators_are_refused_by_key(self):
        state = dict(pth.load_state_dict(_fixture("resnet.pth")))
        state["model.2.weight"] = np.ones(4, np.float32)
        state["model.2.running_mean"] = np.zeros(4, np.float32)
        with self.assertRaisesRegex(pth.PthError, "model.2.running_mean.*batch normalization"):
            official.clean(state)

    def test_discriminator_weights_are_not_a_generator(self):
        with self.assertRaisesRegex(pth.PthError, "discriminator"):
            official.infer({"model.0.weight": np.zeros((64, 3, 4, 4), np.float32)})


class ImportRunTest(tf.test.TestCase):
    def _import(self, **kwargs):
        model_dir = os.path.join(tempfile.mkdtemp(), "imported")
        kwargs.setdefault("checkpoints", {"a2b": _fixture("resnet.pth")})
        import_torch_lib.import_checkpoints(
            import_torch_lib.ImportConfig(model_dir=model_dir, **kwargs)
        )
        return model_dir

    def test_one_file_exports_a_saved_model_that_matches_pytorch_at_any_size(self):
        model_dir = self._import()
        export_dir = os.path.join(tempfile.mkdtemp(), "exported")
        export_lib.export(
            export_lib.ExportConfig(
                model_dir, export_dir, formats=("saved_model",), parity_images=1
            )
        )
        loaded = tf.saved_model.load(os.path.join(export_dir, "saved_model"))
        self.assertNotIn("b2a", loaded.signatures)
        for case in ("resnet_square", "resnet_wide"):
            images, expected = _reference(case)
            actual = loaded.signatures["a2b_float"](images=tf.constant(images))["images"]
            self.assertLess(np.abs(actual.numpy() - expected).max(), TOLERANCE)

    def test_pth_export_writes_the_official_state_dict_back(self):
        model_dir = self._import()
        export_dir = os.path.join(tempfile.mkdtemp(), "exported")
        report = export_lib.export(
            export_lib.ExportConfig(model_dir, export_dir, formats=("pth",), parity_images=1)
        )
        written = pth.load_state_dict(os.path.join(export_dir, "a2b_net_G.pth"))
        original = pth.load_state_dict(_fixture("resnet.pth"))
        self.assertEqual(list(written), list(original))
        for key in original:
            self.assertAllEqual(written[key], original[key])
        self.assertEqual(report["artifacts"]["a2b_net_G"]["psnr_db"], float("inf"))

    def test_pth_export_refuses_keras_padding(self):
        with self.assertRaisesRegex(errors.ConfigError, "pytorch_compatible"):
            export_lib.export(
                export_lib.ExportConfig(
                    helpers.trained_run(), os.path.join(tempfile.mkdtemp(), "x"), formats=("pth",)
                )
            )

    def test_the_missing_direction_is_a_clear_error(self):
        model_dir = self._import()
        with self.assertRaisesRegex(errors.ConfigError, "only the a2b generator.*--direction=a2b"):
            translators.load(model_dir, "b2a")

    def test_two_files_give_both_directions(self):
        model_dir = self._import(
            checkpoints={"a2b": _fixture("resnet.pth"), "b2a": _fixture("resnet_legacy.pth")}
        )
        config, generators, _ = restore.load_generators(model_dir)
        self.assertEqual(set(generators), {"a2b", "b2a"})
        self.assertTrue(config.model.pytorch_compatible)

    def test_requested_architecture_mismatch_names_the_key(self):
        expected = r"resnet_6blocks, not --generator=resnet_9blocks: model\.16\.conv_block"
        with self.assertRaisesRegex(errors.ConfigError, expected):
            self._import(generator="resnet_9blocks")

    def test_an_existing_model_dir_is_refused_and_untouched(self):
        model_dir = tempfile.mkdtemp()
        with open(os.path.join(model_dir, "mine.txt"), "w") as f:
            f.write("mine")
        with self.assertRaisesRegex(errors.ConfigError, "exists"):
            import_torch_lib.import_checkpoints(
                import_torch_lib.ImportConfig(model_dir, {"a2b": _fixture("resnet.pth")})
            )
        self.assertEqual(os.listdir(model_dir), ["mine.txt"])

    def test_a_failed_import_leaves_nothing(self):
        parent = tempfile.mkdtemp()
        with mock.patch.object(import_torch_lib, "_verify", side_effect=errors.RunDirError("x")):
            with self.assertRaises(errors.RunDirError):
                import_torch_lib.import_checkpoints(
                    import_torch_lib.ImportConfig(
                        os.path.join(parent, "run"), {"a2b": _fixture("resnet.pth")}
                    )
                )
        self.assertEqual(os.listdir(parent), [])  # Neither the run nor its staging folder.


if __name__ == "__main__":
    tf.test.main()
