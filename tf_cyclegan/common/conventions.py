"""Conventions every stage shares: the two domains' splits, the directions, the pixel range.

(The paper's names for the networks are in the package docstring.)
"""

import numpy as np
import tensorflow as tf

TRAIN_SPLITS = ("trainA", "trainB")
TEST_SPLITS = ("testA", "testB")
SPLITS = TRAIN_SPLITS + TEST_SPLITS
DIRECTIONS = ("a2b", "b2a")
# Per direction: where its inputs come from, and the real images of the domain it produces.
SOURCE_TRAIN = {"a2b": "trainA", "b2a": "trainB"}
SOURCE_TEST = {"a2b": "testA", "b2a": "testB"}
TARGET_TEST = {"a2b": "testB", "b2a": "testA"}


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
