"""Phone-size student generators, distilled from a teacher (``distill``).

The layout of the teacher's ResNet generator (two stride-2 downsamplings, residual blocks at a
quarter of the resolution, two upsamplings), rebuilt for phones after MobileNetV2 (Sandler et
al. 2018) and GAN Compression (Li et al. 2020):

- residual blocks are inverted residuals: 1x1 expand, 3x3 depthwise, 1x1 project; the
  projection starts at zero, so every block starts as the identity and the network trains
  without normalization;
- no instance norm: its per-image statistics are what full-int8 quantizes poorly, and no
  normalization op is left for a delegate to lack;
- ReLU6 activations, whose bounded range is what int8 represents well;
- nearest-neighbour resize + 3x3 convolution upsampling (no checkerboard; transposed
  convolutions are slow on mobile GPUs);
- 'same' zero padding: no PAD or MIRROR_PAD op in the exported graph.

The exported ops are CONV_2D, DEPTHWISE_CONV_2D, ADD, RESIZE_NEAREST_NEIGHBOR and TANH (plus
the serving signature's QUANTIZE/DEQUANTIZE and the [-1, 1] scaling's MUL/ADD).
"""

import keras

from tf_cyclegan.networks import layers as cg_layers


def student_generator(preset, channels=(3, 3), seed=None, name="student_generator"):
    """Builds a student generator.

    Args:
        preset: its ``architectures.Generator`` (``width``, ``depth`` blocks, ``expansion``).
        channels: (input, output) channels: 3 for RGB, 1 for grayscale.
        seed: int, the weights' initializer seed.

    Returns:
        keras.Model, float [batch, h, w, channels[0]] in [-1, 1] -> float32
        [batch, h, w, channels[1]] in [-1, 1]; h and w multiples of 4.
    """
    seeds = iter(range(10_000 * (seed or 0), 10_000 * (seed or 0) + 10_000))

    def conv(filters, kernel, strides=1, zero=False, layer_name=None):
        init = "zeros" if zero else keras.initializers.HeNormal(seed=next(seeds))
        return keras.layers.Conv2D(
            filters, kernel, strides, padding="same", kernel_initializer=init, name=layer_name
        )

    def relu6(layer_name):
        return keras.layers.ReLU(6.0, name=layer_name)

    width, wide = preset.width, 4 * preset.width
    inputs = keras.Input(shape=(None, None, channels[0]), name="images")
    x = relu6("stem_relu")(conv(width, 5, layer_name="stem_conv")(inputs))
    x = relu6("down0_relu")(conv(2 * width, 3, 2, layer_name="down0_conv")(x))
    x = relu6("down1_relu")(conv(wide, 3, 2, layer_name="down1_conv")(x))
    for i in range(preset.depth):
        y = relu6(f"block{i}_expand_relu")(
            conv(wide * preset.expansion, 1, layer_name=f"block{i}_expand")(x)
        )
        y = keras.layers.DepthwiseConv2D(
            3,
            padding="same",
            depthwise_initializer=keras.initializers.HeNormal(seed=next(seeds)),
            name=f"block{i}_depthwise",
        )(y)
        y = relu6(f"block{i}_depthwise_relu")(y)
        y = conv(wide, 1, zero=True, layer_name=f"block{i}_project")(y)
        x = keras.layers.Add(name=f"block{i}_add")([x, y])
    for i, filters in enumerate((2 * width, width)):
        x = cg_layers.NearestUpsampling2D(name=f"up{i}_resize")(x)
        x = relu6(f"up{i}_relu")(conv(filters, 3, layer_name=f"up{i}_conv")(x))
    x = conv(channels[1], 3, layer_name="head_conv")(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, outputs, name=name)
