"""Image grids for TensorBoard and for PNG files under ``model_dir/samples/``."""

import os

import tensorflow as tf

from tf_cyclegan import conventions


def grid(columns):
    """Lays out equally shaped image batches side by side, one row per example.

    Args:
        columns: list of float32 [n, h, w, 3] in [-1, 1], e.g. [real_a, fake_b, rec_a].

    Returns:
        uint8 [1, n * h, len(columns) * w, 3].
    """
    rows = tf.concat(columns, axis=2)  # [n, h, k*w, 3]
    n, h, w, c = rows.shape
    return conventions.to_uint8(tf.reshape(rows, [1, n * h, w, c]))


def write_png(image, path):
    """Writes uint8 [h, w, 3] (or [1, h, w, 3]) to ``path`` (any tf.io.gfile filesystem)."""
    if image.shape.rank == 4:
        image = image[0]
    tf.io.gfile.makedirs(os.path.dirname(path))
    tf.io.write_file(path, tf.io.encode_png(image))


def sample_grids(model, samples_a, samples_b):
    """The translation grids for both directions.

    Args:
        model: a ``CycleGAN``.
        samples_a, samples_b: float32 [n, h, w, 3] in [-1, 1].

    Returns:
        {"a2b": grid of real A | fake B | reconstructed A, "b2a": the other direction}.
    """
    fake_b = model.translate(samples_a, "a2b")
    fake_a = model.translate(samples_b, "b2a")
    return {
        "a2b": grid([samples_a, fake_b, model.translate(fake_b, "b2a")]),
        "b2a": grid([samples_b, fake_a, model.translate(fake_a, "a2b")]),
    }
