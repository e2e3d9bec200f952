"""``python -m tf_cyclegan.fid DIR1 DIR2``: pytorch-fid's protocol on folders of any images."""

import os
import tempfile

import numpy as np
import tensorflow as tf
from PIL import Image

import helpers
from tf_cyclegan.common import errors
from tf_cyclegan.evaluation import fid, folder_fid, inception


def _photos(folder, seed, sizes=((40, 56), (31, 31), (64, 48), (50, 70), (23, 35))):
    """JPEG and PNG files of several sizes (as real folders hold): uint8 arrays by path."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for i, (h, w) in enumerate(sizes):
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        path = os.path.join(folder, f"{i}.png")
        Image.fromarray(pixels).save(path)
        written[path] = pixels
    return written


class FolderFidTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.network = inception.load(helpers.NARROW_FID_PTH)

    def test_each_image_is_resized_on_its_own_as_pytorch_fid_does(self):
        photos = _photos(tempfile.mkdtemp(), seed=0)
        folder = os.path.dirname(next(iter(photos)))
        got = folder_fid.folder_features(self.network, folder).features
        one_by_one = [p[None].astype(np.float32) / 127.5 - 1 for p in photos.values()]
        want = np.concatenate([inception.features(self.network, x) for x in one_by_one])
        # The same float32 network on the same resized pixels; 1e-5 of the scale covers
        # batch size changing the convolution's blocking.
        self.assertAllClose(got, want, atol=1e-5 * np.abs(want).max(), rtol=0)

    def test_saved_statistics_give_the_folders_fid(self):
        root = tempfile.mkdtemp()
        first, second = os.path.join(root, "a"), os.path.join(root, "b")
        _photos(first, seed=1), _photos(second, seed=2)
        a = folder_fid.load_side(self.network, first)
        b = folder_fid.load_side(self.network, second)
        stats = os.path.join(root, "b.npz")
        np.savez(stats, mu=b.mean, sigma=b.covariance)  # pytorch-fid's --save-stats layout.
        from_stats = folder_fid.compare(a, folder_fid.load_side(self.network, stats))
        self.assertNotIn("kid", from_stats)  # Statistics alone cannot give KID.
        self.assertAllClose(from_stats["fid"], folder_fid.compare(a, b)["fid"], rtol=1e-9)
        self.assertAllClose(folder_fid.compare(a, b)["fid"], fid.fid(a.features, b.features))

    def test_a_folder_without_images_is_one_line(self):
        with self.assertRaisesRegex(errors.ConfigError, "holds 0 image"):
            folder_fid.folder_features(self.network, tempfile.mkdtemp())

    def test_the_command_prints_fid_last_and_refuses_one_folder(self):
        root = tempfile.mkdtemp()
        _photos(os.path.join(root, "a"), seed=3), _photos(os.path.join(root, "b"), seed=4)
        weights = f"--inception_weights={helpers.NARROW_FID_TORCHSCRIPT}"
        folders = [os.path.join(root, d) for d in "ab"]
        done = helpers.run_python("-m", "tf_cyclegan.fid", weights, *folders)
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.strip().splitlines()
        self.assertRegex(lines[-1], r"^FID: \d+\.\d{4}$")
        self.assertRegex(lines[-2], r"^KID: ")
        self.assertIn("standard FID Inception", lines[0])
        one = helpers.run_python("-m", "tf_cyclegan.fid", weights, os.path.join(root, "a"))
        self.assertEqual(one.returncode, 2)
        self.assertRegex(one.stderr.strip().splitlines()[-1], r"^error: expected DIR1 DIR2, got 1")


if __name__ == "__main__":
    tf.test.main()
