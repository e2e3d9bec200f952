"""What --mixed_precision=auto resolves to, and how a run keeps its precision."""

import json
import os
from unittest import mock

import keras
import tensorflow as tf
from absl.testing import parameterized

from tests import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import config_checks, precision, run_dir
from tf_cyclegan.training import train_lib

_AVX2 = precision.Hardware(frozenset({"avx2", "fma"}))
_AVX512_BF16 = precision.Hardware(frozenset({"avx2", "avx512f", "avx512_bf16"}))


class ResolveTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters(
        ("amx", precision.Hardware(frozenset({"amx_tile", "amx_bf16"})), "bfloat16"),
        ("avx512_bf16", _AVX512_BF16, "bfloat16"),
        ("avx2", _AVX2, "float32"),
        ("avx512_without_bf16", precision.Hardware(frozenset({"avx512f"})), "float32"),
        ("ampere_gpu", precision.Hardware(frozenset(), ((8, 0),)), "bfloat16"),
        (
            "turing_gpu_beside_a_bf16_cpu",
            precision.Hardware(_AVX512_BF16.cpu_flags, ((7, 5),)),
            "float32",
        ),
        ("one_older_gpu_of_two", precision.Hardware(frozenset(), ((9, 0), (7, 0))), "float32"),
    )
    def test_auto_is_bfloat16_only_where_it_is_native(self, hardware, want):
        got, reason = precision.resolve("auto", hardware)
        self.assertEqual(got, want)
        self.assertIn("auto", reason)

    @parameterized.parameters("float32", "bfloat16", "float16")
    def test_an_explicit_choice_is_kept_on_any_hardware(self, choice):
        self.assertEqual(precision.resolve(choice, _AVX2), (choice, ""))
        self.assertEqual(precision.resolve(choice, _AVX512_BF16), (choice, ""))

    def test_cpu_flags_are_read_from_cpuinfo(self):
        path = os.path.join(self.get_temp_dir(), "cpuinfo")
        with open(path, "w") as f:
            f.write("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 avx512_bf16\n\n")
        self.assertEqual(precision._cpu_flags(path), {"fpu", "avx2", "avx512_bf16"})
        self.assertEqual(precision._cpu_flags(path + ".missing"), frozenset())

    def test_policy_applies_inside_and_is_restored_after(self):
        with precision.dtype_policy("bfloat16"):
            self.assertEqual(keras.mixed_precision.global_policy().name, "mixed_bfloat16")
        self.assertEqual(keras.mixed_precision.global_policy().name, "float32")
        with self.assertRaisesRegex(ValueError, "'auto'"):
            with precision.dtype_policy("auto"):
                pass


class RunPrecisionTest(tf.test.TestCase):
    def _auto_config(self, model_dir):
        return helpers.tiny_config(model_dir, **{"train.mixed_precision": "auto"})

    def test_default_is_auto_and_a_config_from_before_auto_reads_as_float32(self):
        self.assertEqual(config_lib.TrainConfig().mixed_precision, "auto")
        legacy = config_lib.Config.from_dict({"train": {"mixed_precision": None}})
        self.assertEqual(legacy.train.mixed_precision, "float32")

    def test_a_new_run_takes_this_machines_precision(self):
        config = self._auto_config(os.path.join(self.get_temp_dir(), "new"))
        for hardware, want in ((_AVX512_BF16, "bfloat16"), (_AVX2, "float32")):
            resolved, reason = config_checks.resolve_precision(
                config, config.train.model_dir, hardware
            )
            self.assertEqual(resolved.train.mixed_precision, want)
            self.assertIn("native bfloat16" if want == "bfloat16" else "no native", reason)

    def test_a_run_resumes_in_the_precision_it_recorded_on_any_machine(self):
        for recorded, want in (("bfloat16", "bfloat16"), (None, "float32")):
            model_dir = os.path.join(self.get_temp_dir(), str(recorded))
            os.makedirs(model_dir)
            with open(os.path.join(model_dir, run_dir.CONFIG_FILE), "w") as f:
                json.dump({"train": {"mixed_precision": recorded}}, f)
            for hardware in (_AVX2, _AVX512_BF16):
                config = self._auto_config(model_dir)
                resolved, _ = config_checks.resolve_precision(config, model_dir, hardware)
                self.assertEqual(resolved.train.mixed_precision, want)

    def test_training_records_and_computes_in_what_auto_chose(self):
        model_dir = os.path.join(self.get_temp_dir(), "run")
        config = helpers.with_train_steps(self._auto_config(model_dir), 1)
        with mock.patch.object(precision, "detect", return_value=_AVX512_BF16):
            result = train_lib.train(config)
        self.assertEqual(config_lib.load(model_dir).train.mixed_precision, "bfloat16")
        generator = result["model"].generator_a2b
        self.assertEqual(generator.dtype_policy.name, "mixed_bfloat16")
        self.assertEqual(generator.weights[0].dtype, "float32")


if __name__ == "__main__":
    tf.test.main()
