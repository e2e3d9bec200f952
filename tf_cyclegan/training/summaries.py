"""What a run shows as images: grids for TensorBoard and PNG files under
``model_dir/samples/`` (the console's progress is ``progress.py``)."""

import os

import tensorflow as tf

from tf_cyclegan.common import conventions


def grid(columns):
    """Lays out equally shaped image batches side by side, one row per example.

    Args:
        columns: list of float32 [n, h, w, 3 or 1] in [-1, 1], e.g. [real_a, fake_b, rec_a];
            grayscale columns are shown as RGB when the others are in colour.

    Returns:
        uint8 [1, n * h, len(columns) * w, 3] (1 channel when every column is grayscale).
    """
    channels = max(c.shape[-1] for c in columns)
    columns = [tf.image.grayscale_to_rgb(c) if c.shape[-1] < channels else c for c in columns]
    rows = tf.concat(columns, axis=2)  # [n, h, k*w, channels]
    n, h, w, c = rows.shape
    return conventions.to_uint8(tf.reshape(rows, [1, n * h, w, c]))


def write_png(image, path):
    """Writes uint8 [h, w, c] (or [1, h, w, c]; c 1 or 3) to ``path`` (any tf.io.gfile
    filesystem)."""
    if image.shape.rank == 4:
        image = image[0]
    tf.io.gfile.makedirs(os.path.dirname(path))
    tf.io.write_file(path, tf.io.encode_png(image))


def sample_grids(model, samples_a, samples_b):
    """The translation grids for both directions.

    Args:
        model: a ``CycleGAN``.
        samples_a, samples_b: float32 [n, h, w, channels of the domain] in [-1, 1].

    Returns:
        {"a2b": grid of real A | fake B | reconstructed A, "b2a": the other direction}.
    """
    fake_b = model.translate(samples_a, "a2b")
    fake_a = model.translate(samples_b, "b2a")
    return {
        "a2b": grid([samples_a, fake_b, model.translate(fake_b, "b2a")]),
        "b2a": grid([samples_b, fake_a, model.translate(fake_a, "a2b")]),
    }
