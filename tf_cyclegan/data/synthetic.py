"""``synthetic_shapes``: a built-in TFDS dataset with a known translation between domains.

Domain A: scenes by day, one to three solid circles, squares and triangles in warm colours
(red high, green middle, blue low) on a light, warm background. Domain B: the same kind of
scene "at night": background inverted to a dark blue, each shape's colour channels rotated
(R, G, B) -> (B, R, G) (warm shapes turn green), and a dark 2-pixel outline around each shape.

Why the colour channels have ranges of their own: the true translation must be the only one
unpaired data can support, or no CycleGAN can find it. With colours drawn alike for every
channel (version 1), each of the six channel permutations maps domain A's colours onto the
same distribution as the true rotation, and with a background uniform over a wide range,
shifting it is as good as inverting it; each of those equally valid answers scores only
~19-20 dB against the truth. Tying colours to the shape kind instead (tried) invites solutions
that turn circles into squares. With disjoint channel ranges only the rotation maps A's
shape colours into B's, pixel by pixel, and the ranges' widths bound what is left ambiguous.

Every example carries ``translation``: the exact counterpart of its scene in the other
domain, so translation error is measurable against the truth on the test splits. Training
reads only ``image``, unpaired, exactly like ``cycle_gan/*``. Generated in seconds, offline.
"""

import numpy as np
import tensorflow_datasets as tfds

from tf_cyclegan.common import conventions

IMAGE_SIZE = 64
SPLIT_SIZES = {"trainA": 256, "trainB": 256, "testA": 32, "testB": 32}
_SPLIT_SEEDS = {"trainA": 1, "trainB": 2, "testA": 3, "testB": 4}


def _shape_mask(rng, size):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    radius = rng.uniform(6, 14)
    cy, cx = rng.uniform(radius, size - radius, size=2)
    kind = rng.integers(3)
    if kind == 0:
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
    if kind == 1:
        return (np.abs(yy - cy) <= radius * 0.8) & (np.abs(xx - cx) <= radius * 0.8)
    # Upward triangle: inside the box and below both slanted edges.
    top = cy - radius
    inside_y = (yy >= top) & (yy <= cy + radius)
    half_width = (yy - top) * 0.6
    return inside_y & (np.abs(xx - cx) <= half_width)


def _dilate(mask, pixels):
    """``mask`` grown by ``pixels`` in every direction, clipped at the border (no wrap)."""
    height, width = mask.shape
    padded = np.pad(mask, pixels)
    out = np.zeros_like(mask)
    for dy in range(2 * pixels + 1):
        for dx in range(2 * pixels + 1):
            out |= padded[dy : dy + height, dx : dx + width]
    return out


_DAY_BACKGROUND = np.array([214, 206, 190])
_BACKGROUND_JITTER = 10
# Inclusive (low, high) of a day shape's red, green and blue: disjoint, so that only one
# channel permutation maps them onto the night colours' ranges.
DAY_CHANNEL_RANGES = ((190, 255), (90, 160), (10, 60))
_OUTLINE_VALUE = 10.0


def render_pair(seed, size=IMAGE_SIZE):
    """Renders one scene in both domains.

    Args:
        seed: int, picks the scene.
        size: height and width in pixels.

    Returns:
        (image_a, image_b): uint8 [size, size, 3] each, the same scene in domains A and B.
    """
    rng = np.random.default_rng(seed)
    jitter = rng.integers(-_BACKGROUND_JITTER, _BACKGROUND_JITTER + 1, size=3)
    background = (_DAY_BACKGROUND + jitter).astype(np.float64)
    image_a = np.broadcast_to(background, (size, size, 3)).copy()
    image_b = np.broadcast_to(255 - background, (size, size, 3)).copy()
    for _ in range(rng.integers(1, 4)):
        mask = _shape_mask(rng, size)
        color = np.array([rng.integers(lo, hi + 1) for lo, hi in DAY_CHANNEL_RANGES], np.float64)
        outline = _dilate(mask, 2) & ~mask
        image_a[mask] = color
        image_b[outline] = _OUTLINE_VALUE
        image_b[mask] = np.roll(color, 1)
    return image_a.astype(np.uint8), image_b.astype(np.uint8)


class SyntheticShapes(tfds.core.GeneratorBasedBuilder):
    """Procedural shapes by day (A) and by night (B), with ground-truth translations."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release.",
        "1.0.1": "Outlines no longer wrap around to the opposite border.",
        "2.0.0": "Shape colour channels have disjoint ranges and backgrounds vary less, so"
        " that the true translation is the only one unpaired data supports.",
    }

    def _info(self):
        image = tfds.features.Image(shape=(IMAGE_SIZE, IMAGE_SIZE, 3))
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": image,
                    "label": tfds.features.ClassLabel(names=["A", "B"]),
                    "translation": tfds.features.Image(shape=(IMAGE_SIZE, IMAGE_SIZE, 3)),
                }
            ),
            supervised_keys=("image", "label"),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download.
        return {split: self._generate_examples(split) for split in SPLIT_SIZES}

    def _generate_examples(self, split):
        domain = conventions.SPLIT_DOMAIN[split].upper()  # The label: "A" or "B".
        for index in range(SPLIT_SIZES[split]):
            image_a, image_b = render_pair(_SPLIT_SEEDS[split] * 1_000_000 + index)
            image, translation = (image_a, image_b) if domain == "A" else (image_b, image_a)
            key = f"{split}_{index:05d}"
            yield key, {"image": image, "label": domain, "translation": translation}
