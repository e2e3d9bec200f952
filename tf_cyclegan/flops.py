"""Analytic FLOP counts of the networks and of one full CycleGAN iteration.

A multiply-add counts as 2 FLOPs. Only convolutions are counted: normalization, padding and
activations are memory-bound and a few percent of the arithmetic.
"""

import keras
import numpy as np

from tf_cyclegan import models


def network_flops(model, size):
    """FLOPs of one forward pass of ``model`` on one size x size image."""
    kinds = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)
    convs = [layer for layer in model.layers if isinstance(layer, kinds)]
    probe = keras.Model(model.input, [t for c in convs for t in (c.input, c.output)])
    shapes = [t.shape for t in probe(np.zeros((1, size, size, 3), np.float32))]
    total = 0
    for i, layer in enumerate(convs):
        _, h_in, w_in, c_in = shapes[2 * i]
        _, h_out, w_out, c_out = shapes[2 * i + 1]
        kh, kw = layer.kernel_size
        # A transposed convolution does its multiply-adds per input pixel.
        pixels = h_in * w_in if isinstance(layer, keras.layers.Conv2DTranspose) else h_out * w_out
        total += 2 * kh * kw * c_in * c_out * pixels
    return int(total)


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
