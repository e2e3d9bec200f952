"""Building blocks shared by the generators and discriminators."""

import contextlib
import threading

import keras
import tensorflow as tf

from tf_cyclegan.common.config import INIT_TYPES, NORM_TYPES
from tf_cyclegan.networks import fast_conv


def _instance_standardize(x, epsilon):
    mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
    inv_std = tf.math.rsqrt(variance + epsilon)
    return (x - mean) * inv_std, inv_std


def instance_standardize_with_fused_gradient(x, epsilon):
    """``(x - mean_hw) / sqrt(var_hw + epsilon)`` with its gradient written out in one formula.

    Autodiff through ``tf.nn.moments`` emits a dozen elementwise ops and broadcasts per norm;
    ``dx = inv_std * (dy - mean(dy) - y * mean(dy * y))`` is the same value in five, and ran
    15-40% faster for the generator's norms. Differentiable twice (the WGAN-GP penalty).

    Args:
        x: float32 [batch, height, width, channels].
        epsilon: added to the variance.

    Returns:
        float32, the shape of ``x``.
    """

    @tf.custom_gradient
    def standardize(x):
        y, inv_std = _instance_standardize(x, epsilon)

        def grad(dy):
            mean_dy = tf.reduce_mean(dy, axis=[1, 2], keepdims=True)
            mean_dy_y = tf.reduce_mean(dy * y, axis=[1, 2], keepdims=True)
            return inv_std * (dy - mean_dy - y * mean_dy_y)

        return y, grad

    return standardize(x)


_STATISTICS = threading.local()


class _Statistics:
    """Records each instance norm's (mean, variance), or hands out given ones, in call order."""

    def __init__(self, given):
        self.recorded = []
        self._given = None if given is None else list(given)

    def standardize(self, x, epsilon):
        if self._given is None:
            mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
            self.recorded.append((mean, variance))
        else:
            if not self._given:
                raise ValueError("more instance norms ran than statistics were given")
            mean, variance = self._given.pop(0)
        return (x - mean) * tf.math.rsqrt(variance + epsilon)

    def check_used(self):
        if self._given:
            raise ValueError(f"{len(self._given)} given statistics were not used")


@contextlib.contextmanager
def instance_norm_statistics(given=None):
    """Within this block, inference-mode instance norms record or use their statistics.

    Python-level and per thread, so it applies while a model runs eagerly or is traced
    into a ``tf.function``. With fixed statistics a generator is a per-pixel affine-and-
    convolution network: tiles of an image computed with the whole image's statistics
    reproduce the whole-image result (what tiled translation of large photos relies on).

    Args:
        given: None to record; else a list of (mean, variance) pairs, float32
            [batch or 1, 1, 1, channels], one per instance norm in call order.

    Yields:
        An object whose ``recorded`` list fills with (mean, variance) pairs in call order.
    """
    previous = getattr(_STATISTICS, "active", None)
    _STATISTICS.active = _Statistics(given)
    try:
        yield _STATISTICS.active
        _STATISTICS.active.check_used()
    finally:
        _STATISTICS.active = previous


class InstanceNormalization(keras.layers.Layer):
    """Per-image, per-channel normalization over height and width.

    Matches PyTorch's ``InstanceNorm2d(affine=False)`` as used by the official CycleGAN code:
    ``y = (x - mean_hw(x)) / sqrt(var_hw(x) + epsilon)``, with the biased variance.

    Args:
        epsilon: added to the variance for numerical stability.
        center: learn a per-channel offset (off in the official recipe).
        scale: learn a per-channel gain (off in the official recipe).
    """

    def __init__(self, epsilon=1e-5, center=False, scale=False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.center = center
        self.scale = scale

    def build(self, input_shape):
        channels = input_shape[-1]
        if self.scale:
            self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        if self.center:
            self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, inputs, training=None):
        # Statistics in float32 even under mixed precision: float16 variances underflow.
        x = tf.cast(inputs, tf.float32)
        statistics = getattr(_STATISTICS, "active", None)
        if training:
            y = instance_standardize_with_fused_gradient(x, self.epsilon)
        elif statistics is not None:
            y = statistics.standardize(x, self.epsilon)
        else:
            y = _instance_standardize(x, self.epsilon)[0]
        if self.scale:
            y = y * tf.cast(self.gamma, tf.float32)
        if self.center:
            y = y + tf.cast(self.beta, tf.float32)
        return tf.cast(y, inputs.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
        }


class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring, without repeating the edge pixel.

    Args:
        padding: pixels added on each side of both spatial axes.
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = padding

    def call(self, inputs):
        p = self.padding
        return tf.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        grow = lambda n: None if n is None else n + 2 * self.padding  # noqa: E731
        return (b, grow(h), grow(w), c)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class LeakyReLU(keras.layers.LeakyReLU):
    """max(x, slope * x): Keras' LeakyReLU without TensorFlow's ``LeakyRelu`` op.

    After a convolution with a bias, Grappler's remapper fuses Conv2D + BiasAdd + LeakyRelu
    while ``LeakyReluGrad`` still reads the BiasAdd, then abandons its rewrites of that
    function graph and logs an ERROR line into every training run's console ("remapper
    failed: ... fanout ... LeakyReluGrad"). The step's speed measured the same either way.
    Equal values and gradients for slopes in [0, 1].
    """

    def call(self, inputs):
        return tf.maximum(inputs, inputs * tf.cast(self.negative_slope, inputs.dtype))


@tf.custom_gradient
def _nearest_upsample_2x(x):
    """float [b, h, w, c] -> [b, 2h, 2w, c], each pixel repeated 2x2.

    The gradient is spelled out (each input pixel receives the sum of its 2x2 block) because
    XLA has no kernel for ResizeNearestNeighborGrad.
    """
    y = tf.cast(tf.image.resize(x, tf.shape(x)[1:3] * 2, method="nearest"), x.dtype)

    def grad(dy):
        return 4 * tf.nn.avg_pool2d(dy, 2, 2, "VALID")

    return y, grad


class NearestUpsampling2D(keras.layers.Layer):
    """Doubles height and width by repeating pixels (nearest neighbour).

    One RESIZE_NEAREST_NEIGHBOR op in TFLite, which every delegate runs; Keras's
    ``UpSampling2D`` becomes reshapes and tiles that lose the rank of dynamic-size inputs, so
    the convolution after it does not convert.
    """

    def call(self, inputs):
        return _nearest_upsample_2x(inputs)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, None if h is None else 2 * h, None if w is None else 2 * w, c)


def kernel_initializer(init_type, gain, seed):
    """Returns a new initializer, as in the official ``init_weights``.

    A fresh object per layer: Keras 3 reuses one unseeded initializer's values across
    same-shaped layers.

    Args:
        init_type: one of ``INIT_TYPES``.
        gain: the standard deviation for ``normal``, the gain for the others.
        seed: int seed, unique per layer, or None.
    """
    if init_type == "normal":
        return keras.initializers.RandomNormal(0.0, gain, seed=seed)
    if init_type == "xavier":
        return keras.initializers.VarianceScaling(
            gain**2, mode="fan_avg", distribution="untruncated_normal", seed=seed
        )
    if init_type == "kaiming":
        return keras.initializers.VarianceScaling(
            2.0, mode="fan_in", distribution="untruncated_normal", seed=seed
        )
    if init_type == "orthogonal":
        return keras.initializers.Orthogonal(gain, seed=seed)
    raise ValueError(f"unknown init_type {init_type!r}; expected one of {INIT_TYPES}")


def normalization(norm, name):
    """Returns the normalization layer ``norm`` (one of ``NORM_TYPES``)."""
    if norm == "instance":
        return InstanceNormalization(name=name)
    if norm == "batch":
        return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)
    if norm == "none":
        return keras.layers.Identity(name=name)
    raise ValueError(f"unknown norm {norm!r}; expected one of {NORM_TYPES}")


class LayerFactory:
    """Creates convolutions that share one init scheme, each with its own seed.

    The official code gives convolutions a bias exactly when the norm has no learned offset
    (instance norm, or none); that rule is what makes our parameter counts equal theirs.
    """

    def __init__(self, init_type="normal", gain=0.02, seed=None, norm="instance"):
        if init_type not in INIT_TYPES:
            raise ValueError(f"unknown init_type {init_type!r}; expected one of {INIT_TYPES}")
        if norm not in NORM_TYPES:
            raise ValueError(f"unknown norm {norm!r}; expected one of {NORM_TYPES}")
        self.init_type = init_type
        self.gain = gain
        self.norm = norm
        self.use_bias = norm != "batch"
        self._seed = seed
        self._count = 0

    def _next_seed(self):
        self._count += 1
        return None if self._seed is None else self._seed * 1000 + self._count

    def conv(self, filters, kernel_size, strides=1, padding="valid", use_bias=None, name=None):
        fast = strides == 1 and padding == "valid"
        return (fast_conv.FastGradientConv2D if fast else keras.layers.Conv2D)(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=self.use_bias if use_bias is None else use_bias,
            kernel_initializer=kernel_initializer(self.init_type, self.gain, self._next_seed()),
            bias_initializer="zeros",
            name=name,
        )

    def conv_transpose(
        self, filters, kernel_size, strides=2, padding="same", use_bias=None, name=None
    ):
        return keras.layers.Conv2DTranspose(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=self.use_bias if use_bias is None else use_bias,
            kernel_initializer=kernel_initializer(self.init_type, self.gain, self._next_seed()),
            bias_initializer="zeros",
            name=name,
        )

    def depthwise(self, kernel_size, name=None):
        """A depthwise convolution (one filter per channel, no padding) with a bias."""
        return keras.layers.DepthwiseConv2D(
            kernel_size,
            use_bias=True,
            depthwise_initializer=kernel_initializer(self.init_type, self.gain, self._next_seed()),
            bias_initializer="zeros",
            name=name,
        )

    def norm_layer(self, name):
        return normalization(self.norm, name)


def stride2_conv(x, factory, filters, name, pytorch_compatible=False):
    """A 3x3 stride-2 convolution (``<name>_conv``). ``pytorch_compatible``: zero padding 1
    on every side (``<name>_pad``), as PyTorch's ``padding=1``; else Keras 'same', which pads
    only the bottom and right of an even size."""
    if not pytorch_compatible:
        return factory.conv(filters, 3, strides=2, padding="same", name=f"{name}_conv")(x)
    x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
    return factory.conv(filters, 3, strides=2, padding="valid", name=f"{name}_conv")(x)


def transposed_conv3(x, factory, filters, name, pytorch_compatible=False):
    """A 3x3 stride-2 transposed convolution (``<name>_convT``). ``pytorch_compatible``:
    PyTorch's ``ConvTranspose2d(3, 2, padding=1, output_padding=1)``, which keeps rows and
    columns 1..2H of the full 2H+1 output (``<name>_crop``); Keras 'same' keeps 0..2H-1."""
    if not pytorch_compatible:
        return factory.conv_transpose(filters, 3, name=f"{name}_convT")(x)
    x = factory.conv_transpose(filters, 3, padding="valid", name=f"{name}_convT")(x)
    return keras.layers.Cropping2D(((1, 0), (1, 0)), name=f"{name}_crop")(x)
