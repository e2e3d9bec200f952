"""Translation error against ground truth, for datasets that have it (``synthetic``)."""

import tensorflow as tf


def _psnr(x, y):
    """PSNR in dB of float images in [-1, 1] (peak-to-peak 2)."""
    mse = tf.reduce_mean(tf.square(x - y))
    return float(10.0 * tf.math.log(4.0 / tf.maximum(mse, 1e-12)) / tf.math.log(10.0))


def paired_translation_error(translate, images, truths, batch_size=16):
    """Compares translated images with their true counterparts.

    Args:
        translate: callable, float32 [n, h, w, 3] in [-1, 1] -> same.
        images: float32 [n, h, w, 3] in [-1, 1], the source domain.
        truths: float32 [n, h, w, 3] in [-1, 1], the same scenes in the target domain.

    Returns:
        {"mae": ..., "psnr": ...} of the translation, and "untranslated_mae" /
        "untranslated_psnr": the error of leaving the images as they are (the baseline).
        MAE is in [0, 2] units of the [-1, 1] range.
    """
    outputs = [translate(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    outputs = tf.concat(outputs, axis=0)
    return {
        "mae": float(tf.reduce_mean(tf.abs(outputs - truths))),
        "psnr": _psnr(outputs, truths),
        "untranslated_mae": float(tf.reduce_mean(tf.abs(images - truths))),
        "untranslated_psnr": _psnr(images, truths),
    }
