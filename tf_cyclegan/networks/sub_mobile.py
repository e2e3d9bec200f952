"""GAN Compression's compressed CycleGAN generator (``sub_mobile_resnet_9blocks``).

Li et al., "GAN Compression" (CVPR 2020), ``SubMobileResnetGenerator`` in
``models/modules/resnet_architecture/sub_mobile_resnet_generator.py`` of their code: the
ResNet generator's layout with separable residual blocks and per-layer widths that their
architecture search chose, written as a config string of 8 (or 6) numbers
``c0_c1_..._c7``:

- the input clamped to [-1, 1]; reflection padding 3, a 7x7 convolution to c0;
- two stride-2 3x3 convolutions (zero padding 1) to 2*c1 and to 4*c2, the trunk's width;
- nine residual blocks, block i of hidden width 4*c[3 + i // 3] (all 4*c3 with 6 numbers):
  reflection padding 1, a separable convolution (depthwise 3x3, instance norm, pointwise
  1x1) to the hidden width, instance norm, ReLU, reflection padding 1, a separable
  convolution back to the trunk's width, instance norm, added to the block's input;
- two 3x3 transposed convolutions (stride 2, padding 1, output padding 1) to 2*c6 and c7
  (c4 and c5 with 6 numbers);
- reflection padding 3, a 7x7 convolution to the output channels, tanh.

Every convolution has a bias; every instance norm has none (eps 1e-5). Layer names follow
our ResNet generator's (``stem_conv``, ``down0_conv``, ``res{i}_add``, ``up0_convT``, ...), so
distillation finds the bottleneck features at ``res8_add``.
"""

import keras

from tf_cyclegan.common import architectures
from tf_cyclegan.networks import layers as cg_layers


class Clamp(keras.layers.Layer):
    """Clips its input to [-1, 1], as GAN Compression's generators do first."""

    def call(self, inputs):
        return keras.ops.clip(inputs, -1.0, 1.0)


def sub_mobile_resnet_generator(
    config_str,
    n_blocks=9,
    init_type="normal",
    init_gain=0.02,
    seed=None,
    name="sub_mobile_generator",
    pytorch_compatible=True,
    channels=(3, 3),
):
    """GAN Compression's ``SubMobileResnetGenerator`` with instance norm (module docstring).

    Height and width must be multiples of 4 and at least 8. ``pytorch_compatible``: the
    stride-2 (transposed) convolutions pad as PyTorch's (the imported models need it).
    """
    widths = architectures.SubMobileWidths.parse(config_str, n_blocks)
    factory = cg_layers.LayerFactory(init_type, init_gain, seed, "instance")
    relu = keras.layers.ReLU
    inputs = keras.Input(shape=(None, None, channels[0]), name="images")
    x = Clamp(name="clamp")(inputs)
    x = cg_layers.ReflectionPadding2D(3, name="stem_pad")(x)
    x = factory.conv(widths.stem, 7, name="stem_conv")(x)
    x = relu(name="stem_relu")(factory.norm_layer("stem_norm")(x))
    for i, filters in enumerate((widths.down0, widths.trunk)):
        x = cg_layers.stride2_conv(x, factory, filters, f"down{i}", pytorch_compatible)
        x = relu(name=f"down{i}_relu")(factory.norm_layer(f"down{i}_norm")(x))
    for i, hidden in enumerate(widths.hidden):
        y = _separable(x, hidden, factory, f"res{i}_sep1")
        y = relu(name=f"res{i}_relu")(factory.norm_layer(f"res{i}_norm1")(y))
        y = _separable(y, widths.trunk, factory, f"res{i}_sep2")
        y = factory.norm_layer(f"res{i}_norm2")(y)
        x = keras.layers.Add(name=f"res{i}_add")([x, y])
    for i, filters in enumerate((widths.up0, widths.up1)):
        x = cg_layers.transposed_conv3(x, factory, filters, f"up{i}", pytorch_compatible)
        x = relu(name=f"up{i}_relu")(factory.norm_layer(f"up{i}_norm")(x))
    x = cg_layers.ReflectionPadding2D(3, name="head_pad")(x)
    x = factory.conv(channels[1], 7, use_bias=True, name="head_conv")(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, outputs, name=name)


def _separable(x, filters, factory, name):
    """Reflection padding 1, depthwise 3x3, instance norm, pointwise 1x1 to ``filters``."""
    x = cg_layers.ReflectionPadding2D(1, name=f"{name}_pad")(x)
    x = factory.depthwise(3, name=f"{name}_depthwise")(x)
    x = factory.norm_layer(f"{name}_norm")(x)
    return factory.conv(filters, 1, name=f"{name}_pointwise")(x)
