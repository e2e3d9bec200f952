"""Images arrive as the user sees them: upright, full tonal range, bad files skipped by name."""

import os

import numpy as np
import tensorflow as tf
from PIL import Image

from tf_cyclegan.data import folders, image_files


def _portrait_with_exif_rotation(path):
    """A 30x20 (w x h) landscape array stored with orientation 6: seen as 20x30 upright."""
    pixels = np.zeros((20, 30, 3), np.uint8)
    pixels[:, :10] = 255  # A white band on the stored image's left.
    exif = Image.Exif()
    exif[0x0112] = 6  # Rotate 90 degrees clockwise to display.
    Image.fromarray(pixels).save(path, exif=exif)


class ReadImageTest(tf.test.TestCase):
    def test_exif_orientation_is_applied(self):
        path = os.path.join(self.get_temp_dir(), "portrait.jpg")
        _portrait_with_exif_rotation(path)
        image = image_files.read_image(path)
        self.assertEqual(image.shape, (30, 20, 3))
        # Turned clockwise, the stored left band is now at the top.
        self.assertGreater(image[:8].mean(), 200)
        self.assertLess(image[-15:].mean(), 50)
        self.assertTrue(image_files.needs_conversion(path))  # Stored turned, not as is.

    def test_16_bit_png_keeps_its_tonal_range(self):
        path = os.path.join(self.get_temp_dir(), "ramp16.png")
        ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (16, 1))
        Image.fromarray(ramp).save(path)
        image = image_files.read_image(path)
        self.assertEqual(image.shape, (16, 256, 3))
        self.assertNear(image.mean(), 127.5, 1.0)
        self.assertEqual(image[0, 0, 0], 0)
        self.assertEqual(image[0, -1, 0], 255)

    def test_broken_symlink_is_skipped_by_name(self):
        root = self.get_temp_dir()
        for split in ("trainA", "trainB"):
            os.makedirs(os.path.join(root, split))
            Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(f"{root}/{split}/ok.png")
        os.symlink("/nonexistent/photo.jpg", f"{root}/trainA/gone.jpg")
        config = folders.folder_config(root)  # Used to raise FileNotFoundError.
        skipped = []
        kept = [p for p, _ in image_files.iter_checked(f"{root}/trainA", "trainA", skipped)]
        self.assertEqual([os.path.basename(p) for p in kept], ["ok.png"])
        self.assertEqual([os.path.basename(p) for p, _ in skipped], ["gone.jpg"])
        self.assertTrue(config.name)


if __name__ == "__main__":
    tf.test.main()
