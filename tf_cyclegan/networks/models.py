"""The generator and discriminator networks, as Keras functional models.

Every network takes float images in [-1, 1] of shape [batch, height, width, channels] (3 for
RGB, 1 for grayscale) with any height and width the architecture allows, and returns float32
whatever the compute dtype.
"""

import keras

from tf_cyclegan.common import architectures
from tf_cyclegan.common.config import DISCRIMINATORS, UPSAMPLE_MODES
from tf_cyclegan.networks import antialias as antialias_lib
from tf_cyclegan.networks import layers as cg_layers
from tf_cyclegan.networks import students, sub_mobile


def _upsample(x, filters, factory, mode, kernel_size, name, pytorch_compatible=False):
    if mode == "transpose":
        if kernel_size == 3:
            return cg_layers.transposed_conv3(x, factory, filters, name, pytorch_compatible)
        # The U-Net's kernel 4: PyTorch's padding=1 and Keras 'same' agree.
        return factory.conv_transpose(filters, kernel_size, name=f"{name}_convT")(x)
    if mode == "resize_conv":
        # Nearest-neighbour upsampling then a convolution avoids the checkerboard pattern of
        # strided transposed convolutions (Odena et al. 2016).
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_resize")(x)
        x = cg_layers.ReflectionPadding2D(1, name=f"{name}_pad")(x)
        return factory.conv(filters, 3, name=f"{name}_conv")(x)
    raise ValueError(f"unknown upsample mode {mode!r}; expected one of {UPSAMPLE_MODES}")


def resnet_generator(
    n_blocks=9,
    ngf=64,
    norm="instance",
    use_dropout=False,
    upsample="transpose",
    init_type="normal",
    init_gain=0.02,
    seed=None,
    name="resnet_generator",
    pytorch_compatible=False,
    channels=(3, 3),
    antialias=False,
):
    """Johnson et al.'s ResNet generator: c7s1-ngf, d2ngf, d4ngf, R4ngf x n_blocks, u2ngf,
    ungf, c7s1-3, tanh.

    Height and width must be multiples of 4 (two stride-2 downsamplings) and at least 8.
    ``pytorch_compatible``: the stride-2 (transposed) convolutions pad as the official code's
    (``layers.stride2_conv``, ``layers.transposed_conv3``). ``antialias``: CUT's sampling
    instead (``antialias.py``): stride-1 convolutions then a blur down (``down<i>_blur``),
    a blur up (``up<i>_blur``) then a stride-1 convolution; ``upsample`` does not apply.
    """
    factory = cg_layers.LayerFactory(init_type, init_gain, seed, norm)
    relu = keras.layers.ReLU
    inputs = keras.Input(shape=(None, None, channels[0]), name="images")
    x = cg_layers.ReflectionPadding2D(3, name="stem_pad")(inputs)
    x = factory.conv(ngf, 7, name="stem_conv")(x)
    x = relu(name="stem_relu")(factory.norm_layer("stem_norm")(x))
    for i, mult in enumerate((2, 4)):
        if antialias:
            x = factory.conv(ngf * mult, 3, padding="same", name=f"down{i}_conv")(x)
        else:
            x = cg_layers.stride2_conv(x, factory, ngf * mult, f"down{i}", pytorch_compatible)
        x = relu(name=f"down{i}_relu")(factory.norm_layer(f"down{i}_norm")(x))
        if antialias:
            x = antialias_lib.BlurDownsample(name=f"down{i}_blur")(x)
    for i in range(n_blocks):
        y = cg_layers.ReflectionPadding2D(1, name=f"res{i}_pad1")(x)
        y = factory.conv(ngf * 4, 3, name=f"res{i}_conv1")(y)
        y = relu(name=f"res{i}_relu")(factory.norm_layer(f"res{i}_norm1")(y))
        if use_dropout:
            y = keras.layers.Dropout(0.5, name=f"res{i}_dropout")(y)
        y = cg_layers.ReflectionPadding2D(1, name=f"res{i}_pad2")(y)
        y = factory.conv(ngf * 4, 3, name=f"res{i}_conv2")(y)
        y = factory.norm_layer(f"res{i}_norm2")(y)
        x = keras.layers.Add(name=f"res{i}_add")([x, y])
    for i, mult in enumerate((2, 1)):
        if antialias:
            x = antialias_lib.BlurUpsample(name=f"up{i}_blur")(x)
            x = factory.conv(ngf * mult, 3, padding="same", name=f"up{i}_conv")(x)
        else:
            x = _upsample(x, ngf * mult, factory, upsample, 3, f"up{i}", pytorch_compatible)
        x = relu(name=f"up{i}_relu")(factory.norm_layer(f"up{i}_norm")(x))
    x = cg_layers.ReflectionPadding2D(3, name="head_pad")(x)
    x = factory.conv(channels[1], 7, use_bias=True, name="head_conv")(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, outputs, name=name)


def unet_generator(
    num_downs=8,
    ngf=64,
    norm="instance",
    use_dropout=False,
    upsample="transpose",
    init_type="normal",
    init_gain=0.02,
    seed=None,
    name="unet_generator",
    pytorch_compatible=False,  # The U-Net already computes what the official one does.
    channels=(3, 3),
):
    """Isola et al.'s U-Net generator with ``num_downs`` stride-2 levels and skip connections.

    Height and width must be multiples of 2**num_downs (128 for unet_128, 256 for unet_256).
    Kernel-4 stride-2 convolutions pad like PyTorch's padding=1 under Keras 'same'; the
    official in-place LeakyReLU that also changes a skip tensor is followed by a ReLU of the
    concatenation, which gives the same value either way.
    """
    if num_downs < 5:
        raise ValueError(f"num_downs={num_downs} is too small; the U-Net needs at least 5")
    factory = cg_layers.LayerFactory(init_type, init_gain, seed, norm)
    outer = [ngf, ngf * 2, ngf * 4, ngf * 8] + [ngf * 8] * (num_downs - 4)
    inputs = keras.Input(shape=(None, None, channels[0]), name="images")
    x = factory.conv(outer[0], 4, strides=2, padding="same", name="down0_conv")(inputs)
    skips = [x]
    for i in range(1, num_downs):
        x = keras.layers.LeakyReLU(0.2, name=f"down{i}_lrelu")(x)
        innermost = i == num_downs - 1
        x = factory.conv(outer[i], 4, strides=2, padding="same", name=f"down{i}_conv")(x)
        if not innermost:  # The official innermost block has no down-norm.
            x = factory.norm_layer(f"down{i}_norm")(x)
        skips.append(x)
    for i in reversed(range(num_downs)):
        x = keras.layers.ReLU(name=f"up{i}_relu")(x)
        filters = channels[1] if i == 0 else outer[i - 1]
        if i == 0:
            x = _upsample(x, filters, factory, upsample, 4, name=f"up{i}")
            break
        x = _upsample(x, filters, factory, upsample, 4, name=f"up{i}")
        x = factory.norm_layer(f"up{i}_norm")(x)
        if use_dropout and 1 <= num_downs - 1 - i <= num_downs - 5:
            x = keras.layers.Dropout(0.5, name=f"up{i}_dropout")(x)
        x = keras.layers.Concatenate(name=f"up{i}_skip")([skips[i - 1], x])
    outputs = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, outputs, name=name)


def nlayer_discriminator(
    n_layers=3,
    ndf=64,
    norm="instance",
    init_type="normal",
    init_gain=0.02,
    seed=None,
    name="patch_discriminator",
    channels=3,
    antialias=False,
):
    """PatchGAN: logits for overlapping patches (70x70 receptive field with n_layers=3).

    Returns logits of shape [batch, h', w', 1]; for 256x256 inputs and n_layers=3, 30x30.
    ``antialias``: CUT's stride-1 convolutions each followed by a blur down (``blur<n>``).
    """
    factory = cg_layers.LayerFactory(init_type, init_gain, seed, norm)
    lrelu = cg_layers.LeakyReLU
    pad = keras.layers.ZeroPadding2D
    down = 1 if antialias else 2
    inputs = keras.Input(shape=(None, None, channels), name="images")
    x = factory.conv(ndf, 4, strides=down, use_bias=True, name="conv0")(pad(1, name="pad0")(inputs))
    x = lrelu(0.2, name="lrelu0")(x)
    if antialias:
        x = antialias_lib.BlurDownsample(name="blur0")(x)
    for n in range(1, n_layers + 1):
        stride = down if n < n_layers else 1
        x = pad(1, name=f"pad{n}")(x)
        x = factory.conv(ndf * min(2**n, 8), 4, strides=stride, name=f"conv{n}")(x)
        x = lrelu(0.2, name=f"lrelu{n}")(factory.norm_layer(f"norm{n}")(x))
        if antialias and n < n_layers:
            x = antialias_lib.BlurDownsample(name=f"blur{n}")(x)
    x = pad(1, name="head_pad")(x)
    x = factory.conv(1, 4, use_bias=True, name="head_conv")(x)
    outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def pixel_discriminator(
    ndf=64,
    norm="instance",
    init_type="normal",
    init_gain=0.02,
    seed=None,
    name="pixel_discriminator",
    channels=3,
):
    """1x1 PixelGAN: one logit per pixel, [batch, height, width, 1]."""
    factory = cg_layers.LayerFactory(init_type, init_gain, seed, norm)
    inputs = keras.Input(shape=(None, None, channels), name="images")
    x = factory.conv(ndf, 1, use_bias=True, name="conv0")(inputs)
    x = cg_layers.LeakyReLU(0.2, name="lrelu0")(x)
    x = factory.conv(ndf * 2, 1, name="conv1")(x)
    x = cg_layers.LeakyReLU(0.2, name="lrelu1")(factory.norm_layer("norm1")(x))
    x = factory.conv(1, 1, name="head_conv")(x)
    outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def build_generator(config, seed=None, name="generator", direction="a2b"):
    """Builds the generator that ``config`` (a ``ModelConfig``) names, for ``direction``
    (which decides its input and output channels)."""
    common = dict(
        channels=config.direction_channels(direction),
        ngf=config.ngf,
        norm=config.norm,
        use_dropout=config.use_dropout,
        upsample=config.upsample,
        init_type=config.init_type,
        init_gain=config.init_gain,
        seed=seed,
        name=name,
        pytorch_compatible=config.pytorch_compatible,
    )
    architecture = architectures.get(config.generator)
    if architecture.family == "resnet":
        return resnet_generator(n_blocks=architecture.depth, antialias=config.antialias, **common)
    if architecture.family == "unet":
        return unet_generator(num_downs=architecture.depth, **common)
    if architecture.family == "sub_mobile":
        for option in ("ngf", "norm", "use_dropout", "upsample"):  # Set by the config string.
            del common[option]
        return sub_mobile.sub_mobile_resnet_generator(
            config.sub_mobile_config, architecture.depth, **common
        )
    return students.student_generator(architecture, common["channels"], seed, name)


def build_discriminator(config, seed=None, name="discriminator", domain="a"):
    """Builds the discriminator that ``config`` (a ``ModelConfig``) names, judging images of
    ``domain`` ("a" or "b": their channels)."""
    common = dict(
        channels=config.channels(domain),
        ndf=config.ndf,
        norm=config.norm,
        init_type=config.init_type,
        init_gain=config.init_gain,
        seed=seed,
        name=name,
    )
    if config.discriminator == "basic":
        return nlayer_discriminator(n_layers=3, antialias=config.antialias, **common)
    if config.discriminator == "n_layers":
        return nlayer_discriminator(
            n_layers=config.n_layers_d, antialias=config.antialias, **common
        )
    if config.discriminator == "pixel":
        return pixel_discriminator(**common)
    raise ValueError(
        f"unknown discriminator {config.discriminator!r}; expected one of {DISCRIMINATORS}"
    )


def tileable(config):
    """Whether generators of ``config`` (a ``ModelConfig``) translate exactly in tiles: a
    finite receptive field, and instance norms whose statistics the tiles can share."""
    radius = architectures.get(config.generator).receptive_radius
    # The blurs widen the receptive field beyond the registry's radius (unmeasured).
    return radius is not None and config.norm == "instance" and not config.antialias


def feature_layer(generator):
    """The layer of ``generator`` (a registry name) whose output is its bottleneck features
    (the input of the upsampling path), or None for the U-Nets (no single one)."""
    architecture = architectures.get(generator)
    if architecture.family == "unet":
        return None
    block = "block" if architecture.is_student else "res"
    return f"{block}{architecture.depth - 1}_add"
