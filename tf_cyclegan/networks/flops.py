r"""Analytic operation counts of the networks and of one full CycleGAN iteration.

Convention: a multiply-add (MAC) is 2 FLOPs. Only convolutions are counted (regular,
depthwise and transposed); normalization, padding, resizing and activations are memory-bound
and a few percent of the arithmetic. A transposed convolution's multiply-adds are counted per
input pixel (what it computes); per output pixel, as some papers count, is 4x more for
stride 2.

``python -m tf_cyclegan.flops --size=256`` prints MACs and parameters of every generator.
"""

import keras
import numpy as np

from tf_cyclegan.common import architectures, errors
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.networks import models


def network_flops(model, size):
    """FLOPs of one forward pass of ``model`` on one size x size image."""
    kinds = (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.DepthwiseConv2D)
    convs = [layer for layer in model.layers if isinstance(layer, kinds)]
    probe = keras.Model(model.input, [t for c in convs for t in (c.input, c.output)])
    channels = model.input.shape[-1]
    shapes = [t.shape for t in probe(np.zeros((1, size, size, channels), np.float32))]
    total = 0
    for i, layer in enumerate(convs):
        _, h_in, w_in, c_in = shapes[2 * i]
        _, h_out, w_out, c_out = shapes[2 * i + 1]
        kh, kw = layer.kernel_size
        # A transposed convolution does its multiply-adds per input pixel.
        pixels = h_in * w_in if isinstance(layer, keras.layers.Conv2DTranspose) else h_out * w_out
        # A depthwise convolution connects each output channel to one input channel.
        fan_in = 1 if isinstance(layer, keras.layers.DepthwiseConv2D) else c_in
        total += 2 * kh * kw * fan_in * c_out * pixels
    return int(total)


def network_macs(model, size):
    """Multiply-adds of one forward pass of ``model`` on one size x size image."""
    return network_flops(model, size) // 2


def iteration_flops(model_config, size, batch=1, identity=True):
    """FLOPs of one train step, the way ``CycleGAN`` computes it.

    Generators: 6 forwards (fake, reconstruction and identity for each direction; 4 without
    identity) and their backward passes (about 2 forwards each). Discriminators: 2 forwards
    on fakes for the generator loss with input gradients only (about 1 forward), and 4
    forwards (real and pooled fake per domain) with full backward passes.
    """
    g = network_flops(models.build_generator(model_config), size)
    d = network_flops(models.build_discriminator(model_config), size)
    g_forwards = 6 if identity else 4
    return batch * (3 * g_forwards * g + (2 + 2) * d + 3 * 4 * d)


def generator_table(size):
    """[(generator name, GMACs at size x size RGB or None, parameters or None)] for every
    generator; None where ``size`` is not an image side the generator takes."""
    rows = []
    for name in architectures.names():
        try:
            architectures.check_size(name, size, "--size")
        except errors.ConfigError:
            rows.append((name, None, None))
            continue
        example = architectures.get(name).example_config
        model_config = config_lib.ModelConfig(generator=name, sub_mobile_config=example)
        model = models.build_generator(model_config)
        rows.append((name, network_macs(model, size) / 1e9, model.count_params()))
    return rows
