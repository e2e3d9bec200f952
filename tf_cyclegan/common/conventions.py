"""Conventions every stage shares: the two domains' splits, the directions, the pixel range.

(The paper's names for the networks are in the package docstring.)
"""

import dataclasses

import numpy as np
import tensorflow as tf

DOMAINS = ("a", "b")
TRAIN_SPLITS = ("trainA", "trainB")
TEST_SPLITS = ("testA", "testB")
SPLITS = TRAIN_SPLITS + TEST_SPLITS
# The domain ("a" or "b") whose images a split holds.
SPLIT_DOMAIN = {split: split[-1].lower() for split in SPLITS}


@dataclasses.dataclass(frozen=True)
class Direction:
    """A translation direction: the domain it reads and the domain it writes.

    Attributes:
        name: "a2b" or "b2a", as flags, checkpoint keys and signatures spell it.
        source, target: "a" or "b".
    """

    name: str
    source: str
    target: str

    @property
    def source_train(self):
        """The split its training inputs come from."""
        return f"train{self.source.upper()}"

    @property
    def source_test(self):
        """The split its held-out inputs come from."""
        return f"test{self.source.upper()}"

    @property
    def target_test(self):
        """The split of real images of the domain it produces."""
        return f"test{self.target.upper()}"

    @property
    def reverse(self):
        return DIRECTION[f"{self.target}2{self.source}"]

    @property
    def judge(self):
        """The discriminator that judges its outputs (images of its target domain)."""
        return f"discriminator_{self.target}"


DIRECTION = {d.name: d for d in (Direction("a2b", "a", "b"), Direction("b2a", "b", "a"))}
DIRECTIONS = tuple(DIRECTION)
# Per direction: where its inputs come from, and the real images of the domain it produces.
SOURCE_TRAIN = {d.name: d.source_train for d in DIRECTION.values()}
SOURCE_TEST = {d.name: d.source_test for d in DIRECTION.values()}
TARGET_TEST = {d.name: d.target_test for d in DIRECTION.values()}


def to_float(images):
    """Pixels 0-255 (uint8, or float) -> float32 in [-1, 1], the generators' range.

    Args:
        images: a NumPy array (returns one) or a tensor (returns one), any shape.
    """
    if isinstance(images, np.ndarray):
        return images.astype(np.float32) / 127.5 - 1.0
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float in [-1, 1] -> uint8 0-255, rounded and clipped; NumPy in, NumPy out."""
    if isinstance(images, np.ndarray):
        return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return tf.cast(tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0), tf.uint8)
