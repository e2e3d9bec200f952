"""Distillation: a distilled run's contract, its teacher, resume, the command."""

import dataclasses
import glob
import os
import tempfile

import numpy as np
import tensorflow as tf

import helpers
import tiny_generator
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import errors, run_dir
from tf_cyclegan.distillation import distill_lib
from tf_cyclegan.networks import models, restore


def _distill_config(model_dir, teacher, student=None, directions=None, **overrides):
    """A tiny distillation config from ``teacher`` (a run directory); overrides as
    ``helpers.tiny_config``'s; the tests' one-block student unless ``student`` is given."""
    student = student or tiny_generator.STUDENT_NAME
    base = helpers.tiny_config(model_dir, **overrides)
    base = dataclasses.replace(base, distill=dataclasses.replace(base.distill, teacher=teacher))
    given = {key.split(".")[1] for key in overrides}
    return distill_lib.from_teacher(base, student, directions, given)


class DelegatesTest(tf.test.TestCase):
    def test_names_the_operators_the_gpu_delegate_lacks(self):
        from tf_cyclegan.exporting import delegates

        ops = {"CONV_2D", "TOPK_V2", "SHAPE", "TANH"}
        self.assertEqual(delegates.gpu_unsupported(ops), ["SHAPE", "TOPK_V2"])


class DistilledRunTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.teacher = helpers.trained_run()
        cls.model_dir = os.path.join(tempfile.mkdtemp(), "student")
        cls.config = _distill_config(cls.model_dir, cls.teacher, **{"train.train_steps": 2})
        cls.result = distill_lib.distill(cls.config)

    def test_records_the_student_and_the_teacher_checkpoint(self):
        saved = config_lib.load(self.model_dir)
        self.assertEqual(saved.model.generator, tiny_generator.STUDENT_NAME)
        self.assertEqual(saved.distill.teacher, self.teacher)
        self.assertTrue(tf.io.gfile.exists(saved.distill.teacher_checkpoint + ".index"))

    def test_trains_every_term_of_both_students(self):
        losses = self.result["losses"]
        for direction in ("a2b", "b2a"):
            for term in ("output", "features", "adversarial"):
                self.assertTrue(np.isfinite(losses[f"generator_{direction}/{term}"]), term)
        self.assertIn("discriminator_b/fake", losses)

    def test_evaluates_the_student_against_the_truth_and_the_teacher(self):
        for key in ("a2b/psnr", "b2a/psnr", "a2b/psnr_vs_teacher", "b2a/psnr_vs_teacher"):
            self.assertIn(key, self.result["eval"])

    def test_loads_as_generators_like_a_trained_run(self):
        # What export, translate and evaluate read: the students under the usual keys.
        _, generators, _ = restore.load_generators(self.model_dir)
        images = tf.random.uniform([1, 32, 32, 3], -1, 1, seed=5)
        for direction, generator in generators.items():
            want = self.result["model"].translate(images, direction)
            self.assertAllClose(generator(images), want, atol=1e-6)

    def test_exports_full_int8_and_runs_whole_on_the_gpu_delegate(self):
        from tf_cyclegan.exporting import export_lib

        export_dir = os.path.join(self.get_temp_dir(), "export")
        config = export_lib.ExportConfig(
            self.model_dir,
            export_dir,
            formats=("tflite",),
            quantizations=("float16", "int8"),
            dynamic_tflite=False,
        )
        artifacts = export_lib.export(config)["artifacts"]  # Checks the parity floors.
        for name in ("a2b_float16", "a2b_int8", "b2a_float16", "b2a_int8"):
            self.assertEqual(artifacts[name]["gpu_delegate_unsupported_ops"], [], name)

    def test_starts_from_the_teachers_discriminators(self):
        config = _distill_config(os.path.join(self.get_temp_dir(), "fresh"), self.teacher)
        model = distill_lib.distiller.Distiller(config, steps_per_epoch=4)
        self.assertTrue(model.teacher_discriminators)
        teacher = models.build_discriminator(config.model, name="discriminator_b", domain="b")
        owner = tf.train.Checkpoint(discriminator_b=teacher)
        restored = tf.train.Checkpoint(model=owner).restore(config.distill.teacher_checkpoint)
        restored.expect_partial().assert_existing_objects_matched()
        for ours, theirs in zip(model.discriminator_b.weights, teacher.weights, strict=True):
            self.assertAllEqual(ours, theirs)


class FromTeacherTest(tf.test.TestCase):
    def test_takes_the_teachers_data_options_unless_given(self):
        teacher = helpers.trained_run()
        model_dir = os.path.join(self.get_temp_dir(), "student")
        base = helpers.tiny_config(model_dir, **{"data.load_size": 40, "data.crop_size": 24})
        base = dataclasses.replace(base, distill=config_lib.DistillConfig(teacher=teacher))
        config = distill_lib.from_teacher(base, "mobile_s", given={"crop_size"})
        self.assertEqual(config.data.load_size, 36)  # The teacher's.
        self.assertEqual(config.data.crop_size, 24)  # Given.
        self.assertEqual(config.model.ngf, 4)  # The teacher's discriminator settings.

    def test_refuses_the_teachers_own_directory(self):
        teacher = helpers.trained_run()
        with self.assertRaisesRegex(errors.ConfigError, "is the teacher's run"):
            _distill_config(teacher, teacher)

    def test_refuses_a_direction_the_teacher_lacks(self):
        teacher = helpers.copy_run(helpers.trained_run())
        saved = config_lib.load(teacher)
        one = dataclasses.replace(saved.model, directions="a2b")
        config_lib.save(dataclasses.replace(saved, model=one), teacher)
        model_dir = os.path.join(self.get_temp_dir(), "student")
        with self.assertRaisesRegex(errors.ConfigError, "holds only the a2b generator"):
            _distill_config(model_dir, teacher, directions=["b2a"])


class ImportedTeacherTest(tf.test.TestCase):
    def test_distils_one_direction_of_an_imported_official_generator(self):
        # An imported run holds one generator and no discriminators: a fresh judge.
        from tf_cyclegan.pretrained import import_torch_lib

        teacher = os.path.join(self.get_temp_dir(), "imported")
        fixture = os.path.join(helpers.ROOT, "tests", "fixtures", "pretrained", "resnet.pth")
        import_torch_lib.import_checkpoints(
            import_torch_lib.ImportConfig(
                teacher,
                {"a2b": fixture},
                dataset="synthetic",
                data_dir=helpers.synthetic_data_dir(),
                crop_size=32,
            )
        )
        model_dir = os.path.join(self.get_temp_dir(), "student")
        overrides = {"train.train_steps": 1, "data.load_size": 36, "data.crop_size": 32}
        config = _distill_config(model_dir, teacher, **overrides)
        result = distill_lib.distill(config)
        self.assertFalse(result["model"].teacher_discriminators)
        self.assertEqual(config_lib.load(model_dir).model.generator_directions, ("a2b",))
        self.assertIn("a2b/psnr_vs_teacher", result["eval"])
        self.assertNotIn("generator_b2a/output", result["losses"])


class CutTeacherTest(tf.test.TestCase):
    def test_distils_the_one_generator_of_a_cut_run_with_its_discriminator(self):
        from tf_cyclegan.training import train_lib

        teacher = os.path.join(self.get_temp_dir(), "cut")
        cut_options = {"model.family": "cut", "loss.nce_layers": "0,4", "loss.num_patches": 8}
        train_lib.train(helpers.tiny_config(teacher, **cut_options, **{"train.train_steps": 1}))
        model_dir = os.path.join(self.get_temp_dir(), "student")
        config = _distill_config(model_dir, teacher, **{"train.train_steps": 1})
        result = distill_lib.distill(config)
        self.assertEqual(config_lib.load(model_dir).model.generator_directions, ("a2b",))
        self.assertTrue(result["model"].teacher_discriminators)  # CUT's discriminator_b.
        self.assertIn("a2b/psnr_vs_teacher", result["eval"])


class DistillResumeTest(tf.test.TestCase):
    def test_stopping_and_resuming_gives_the_same_state_as_one_run(self):
        teacher = helpers.trained_run()
        overrides = {"train.deterministic": True, "data.max_dataset_size": 8}
        straight_dir = os.path.join(self.get_temp_dir(), "straight")
        straight = _distill_config(straight_dir, teacher, **overrides, **{"train.train_steps": 4})
        distill_lib.distill(straight)
        resumed_dir = helpers.stopped_copy(straight_dir, 2)
        resumed = _distill_config(resumed_dir, teacher, **overrides, **{"train.train_steps": 4})
        helpers.resumed(self, 2, distill_lib.distill, resumed)
        want, got = helpers.checkpoint_values(straight_dir), helpers.checkpoint_values(resumed_dir)
        self.assertEqual(set(want), set(got))
        self.assertTrue(any("projection_a2b" in n for n in want))
        self.assertFalse(any("teacher" in n for n in want))
        for name in want:
            self.assertAllClose(got[name], want[name], atol=1e-6, rtol=1e-6, msg=name)


class DistillCommandTest(tf.test.TestCase):
    """``python -m tf_cyclegan.distill`` (a subprocess: its flags share names with other
    commands' flags of other meanings, e.g. translate's --batch_size)."""

    def _run(self, *flags):
        return helpers.run_python("-m", "tf_cyclegan.distill", *flags)

    def test_distills_one_direction_with_the_teachers_data_and_says_how_to_export(self):
        model_dir = os.path.join(self.get_temp_dir(), "student")
        result = self._run(
            f"--teacher={helpers.trained_run()}",
            f"--model_dir={model_dir}",
            f"--student={tiny_generator.STUDENT_NAME}",
            "--directions=b2a",
            "--train_steps=1",
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertIn(f"python -m tf_cyclegan.export --model_dir={model_dir}", result.stdout)
        saved = config_lib.load(model_dir)
        self.assertEqual(saved.model.generator_directions, ("b2a",))
        self.assertEqual(saved.data.crop_size, 32)  # The teacher's, not the flag's default.

    def test_two_replicas_under_xla(self):
        # A subprocess: collective instance keys are process-wide, and a second program's
        # collectives under a new MirroredStrategy in the same process can clash with these.
        model_dir = os.path.join(self.get_temp_dir(), "mirrored")
        result = self._run(
            f"--teacher={helpers.trained_run()}",
            f"--model_dir={model_dir}",
            f"--student={tiny_generator.STUDENT_NAME}",
            "--strategy=mirrored",
            "--num_cpu_devices=2",
            "--jit_compile",
            "--batch_size=1",
            "--train_steps=2",
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertEqual(config_lib.load(model_dir).train.num_replicas, 2)
        self.assertEqual(run_dir.checkpoints(model_dir)[0], run_dir.checkpoint_path(model_dir, 2))

    def test_presets_parse_up_to_their_teacher(self):
        # Every flag in the preset is known: the first complaint is the absent teacher run.
        model_dir = os.path.join(self.get_temp_dir(), "student")
        absent = os.path.join(self.get_temp_dir(), "absent_teacher")
        presets = glob.glob(os.path.join(helpers.ROOT, "flags", "distill_*.cfg"))
        self.assertNotEmpty(presets)
        for path in presets:
            result = self._run(
                f"--flagfile={path}", f"--model_dir={model_dir}", f"--teacher={absent}"
            )
            self.assertEqual(result.returncode, 2, result.stderr[-2000:])
            self.assertIn(f"{absent} does not exist", result.stderr.splitlines()[-1])

    def test_a_missing_teacher_is_one_line_and_creates_nothing(self):
        model_dir = os.path.join(self.get_temp_dir(), "student")
        result = self._run("--teacher=no_such_run", f"--model_dir={model_dir}")
        self.assertEqual(result.returncode, 2, result.stderr[-2000:])
        self.assertNotIn("Traceback", result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        self.assertStartsWith(last, "error: ")
        self.assertIn("no_such_run does not exist", last)
        self.assertFalse(os.path.exists(model_dir))


if __name__ == "__main__":
    tf.test.main()
