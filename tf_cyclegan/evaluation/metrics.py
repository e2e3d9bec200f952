"""Translation error against ground truth, for datasets that have it (``synthetic``)."""

import numpy as np
import tensorflow as tf


def psnr(x, y):
    """PSNR in dB of float images in [-1, 1] (peak-to-peak 2); inf when they are equal.

    Args:
        x, y: arrays or tensors of one shape; compared in float64.
    """
    mse = float(np.mean((np.asarray(x, np.float64) - np.asarray(y, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(4.0 / mse))


def paired_translation_error(outputs, images, truths):
    """Compares translated images with their true counterparts.

    Args:
        outputs: float32 [n, h, w, c_target] in [-1, 1], the translations of ``images``.
        images: float32 [n, h, w, c] in [-1, 1], the source domain (c: its channels, 1 or 3).
        truths: float32 [n, h, w, c_target] in [-1, 1], the same scenes in the target domain.

    Returns:
        {"mae": ..., "psnr": ...} of the translation, and "untranslated_mae" /
        "untranslated_psnr": the error of leaving the images as they are (the baseline).
        MAE is in [0, 2] units of the [-1, 1] range.
    """
    return {
        "mae": float(tf.reduce_mean(tf.abs(outputs - truths))),
        "psnr": psnr(outputs, truths),
        "untranslated_mae": float(tf.reduce_mean(tf.abs(images - truths))),
        "untranslated_psnr": psnr(images, truths),
    }
