"""Antialiased resampling (Zhang, "Making Convolutional Networks Shift-Invariant Again",
ICML 2019), as CUT's official generator and PatchGAN use it by default.

A stride-2 layer becomes a stride-1 layer followed by a fixed binomial blur that subsamples
(``BlurDownsample``); a transposed convolution becomes a fixed blur that upsamples
(``BlurUpsample``) followed by a stride-1 convolution. The filters are not trained. Both
reproduce the official ``Downsample(filt_size=3)`` and ``Upsample(filt_size=4)`` exactly,
padding included (reflection before the blur down, replication before the blur up).
"""

import keras
import numpy as np
import tensorflow as tf


def binomial_filter(size):
    """float32 [size, size]: the outer product of a binomial row, summing to 1."""
    row = np.array([1.0])
    for _ in range(size - 1):
        row = np.convolve(row, [1.0, 1.0])
    square = np.outer(row, row)
    return (square / square.sum()).astype(np.float32)


def _depthwise(x, kernel, strides):
    """Every channel of ``x`` convolved with the same [k, k] ``kernel``, no padding."""
    channels = x.shape[-1]
    filters = tf.tile(tf.constant(kernel, x.dtype)[:, :, None, None], [1, 1, channels, 1])
    return tf.nn.depthwise_conv2d(x, filters, [1, strides, strides, 1], "VALID")


class BlurDownsample(keras.layers.Layer):
    """Halves height and width: reflection pad 1, then a 3x3 binomial blur of stride 2.

    float [b, h, w, c] -> [b, ceil(h / 2), ceil(w / 2), c].
    """

    def call(self, inputs):
        padded = tf.pad(inputs, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
        return _depthwise(padded, binomial_filter(3), 2)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        half = lambda n: None if n is None else (n + 1) // 2  # noqa: E731
        return (b, half(h), half(w), c)


class BlurUpsample(keras.layers.Layer):
    """Doubles height and width: replication pad 1, zeros between pixels, a 4x4 binomial
    blur (times 4, so that a constant stays constant), and the official crop.

    float [b, h, w, c] -> [b, 2h, 2w, c].
    """

    def call(self, inputs):
        x = tf.pad(inputs, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
        shape = tf.shape(x)
        b, h, w, c = shape[0], shape[1], shape[2], shape[3]
        # Zero insertion: [h, w] -> [2h - 1, 2w - 1], a transposed convolution's input. Pads
        # of reshaped tensors: ops every LiteRT delegate runs.
        x = tf.pad(x[:, :, :, None], [[0, 0], [0, 0], [0, 0], [0, 1], [0, 0]])
        x = tf.reshape(x, [b, h, 2 * w, c])[:, :, : 2 * w - 1]
        x = tf.pad(x[:, :, None], [[0, 0], [0, 0], [0, 1], [0, 0], [0, 0]])
        x = tf.reshape(x, [b, 2 * h, 2 * w - 1, c])[:, : 2 * h - 1]
        x = tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]])  # The full transposed convolution.
        x = _depthwise(x, 4 * binomial_filter(4), 1)
        # PyTorch's conv_transpose2d(padding=2)[1:, 1:][:-1, :-1] keeps rows 3 .. 2h + 2.
        size = 2 * (h - 2)
        return x[:, 3 : 3 + size, 3 : 3 + 2 * (w - 2)]

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        double = lambda n: None if n is None else 2 * n  # noqa: E731
        return (b, double(h), double(w), c)
