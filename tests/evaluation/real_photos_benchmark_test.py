"""benchmarks/real_photos.py end to end on a generated folder: train, measure, report."""

import json
import os

import numpy as np
import tensorflow as tf
from PIL import Image

import helpers


def _folder(root, count=4, side=40):
    """A CycleGAN folder of random JPEGs (bright domain A, dark domain B)."""
    rng = np.random.default_rng(0)
    for split in ("trainA", "trainB", "testA", "testB"):
        os.makedirs(os.path.join(root, split))
        low = 128 if split.endswith("A") else 0
        for i in range(count):
            pixels = rng.integers(low, low + 128, (side, side, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(os.path.join(root, split, f"{i}.jpg"))
    return root


class RealPhotosBenchmarkTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        work = tf.test.TestCase().get_temp_dir()
        cls.model_dir, cls.figure = f"{work}/run", f"{work}/figure.jpg"
        cls.result = helpers.run_python(
            "benchmarks/real_photos.py",
            f"--dataset={_folder(f'{work}/photos')}",
            "--preset_flagfile=flags/smoke.cfg",
            f"--inception_weights={helpers.NARROW_FID_PTH}",
            f"--model_dir={cls.model_dir}",
            f"--data_dir={work}/tfds",
            "--published_size=48",
            "--grid_images=2",
            f"--figure={cls.figure}",
            "--figure_pairs=3",
            *(f"--train_flag={f}" for f in ("--eval_every=2", *helpers.TINY_NETWORK_FLAGS)),
        )
        report = os.path.join(cls.model_dir, "real_photos_step_4.json")
        cls.report = json.load(open(report)) if os.path.exists(report) else None

    def test_exits_cleanly_and_writes_its_report(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr[-3000:])
        self.assertIsNotNone(self.report)

    def test_final_and_best_are_measured_both_ways_at_both_sizes(self):
        self.assertEqual(self.report["sizes"], [32, 48])
        self.assertEqual(self.report["final"]["step"], 4)
        self.assertIn(self.report["best"]["step"], (2, 4))
        for label in ("final", "best"):
            for size in ("32", "48"):
                for direction in ("a2b", "b2a"):
                    row = self.report[label][size][direction]
                    for name in ("fid", "kid", "untranslated_fid", "floor_fid"):
                        self.assertTrue(np.isfinite(row[name]), (label, size, direction, name))
                    self.assertBetween(row["share"], 0.0, 1.0)

    def test_prints_the_table_the_classifier_and_the_fid_curve(self):
        self.assertRegex(self.result.stdout, r"\| final \(step 4\) \| 48 \| a2b \|")
        self.assertRegex(self.result.stdout, r"\| best \(step \d\) \| 32 \| b2a \|")
        self.assertIn("Classifier accuracy on the real test photos at 48 px", self.result.stdout)
        self.assertEqual([s for s, _ in self.report["curve"]["a2b/fid"]], [2, 4])

    def test_grid_and_figure_hold_the_pairs_asked_for(self):
        with Image.open(self.report["grid"]) as grid:  # 2 photos a way, 2 ways; 48 px pairs.
            self.assertEqual(grid.size, (2 * 48, 4 * 48))
        with Image.open(self.figure) as figure:  # 3 pairs, two to a row: 2 rows.
            self.assertEqual(figure.size, (4 * 48, 2 * 48))


class CutRealPhotosBenchmarkTest(tf.test.TestCase):
    def test_a_cut_run_is_measured_in_its_one_direction(self):
        work = self.get_temp_dir()
        model_dir = f"{work}/run"
        result = helpers.run_python(
            "benchmarks/real_photos.py",
            f"--dataset={_folder(f'{work}/photos')}",
            "--preset_flagfile=flags/smoke.cfg",
            "--model=fastcut",
            f"--inception_weights={helpers.NARROW_FID_PTH}",
            f"--model_dir={model_dir}",
            f"--data_dir={work}/tfds",
            "--published_size=48",
            "--grid_images=2",
            *(f"--train_flag={f}" for f in ("--nce_layers=0,4,8,12", *helpers.TINY_NETWORK_FLAGS)),
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        with open(os.path.join(model_dir, "real_photos_step_4.json")) as f:
            report = json.load(f)
        self.assertEqual(sorted(report["final"]["48"]), ["a2b"])
        self.assertTrue(np.isfinite(report["final"]["48"]["a2b"]["fid"]))
        self.assertRegex(result.stdout, r"\| final \(step 4\) \| 48 \| a2b \|")


if __name__ == "__main__":
    tf.test.main()
