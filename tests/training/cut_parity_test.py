"""CUT and FastCUT's iteration against the official code's (tools/cut_reference.py fixtures).

The fixtures hold one official iteration on tiny networks (ResNet-6, 4 filters, 32 px,
antialiased, init gain 1): weights, images, the sampled patches, every loss term, each
layer's PatchNCE, the discriminator's gradients and updated weights, the MLP head's
gradients taken with that updated discriminator, and the generator's derivatives along
random directions (float64 finite differences of the official loss; see the tool).
"""

import os
from unittest import mock

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.training import cut, patchnce

_FIXTURES = os.path.join(helpers.FIXTURES, "cut")


def _config(family, model_dir):
    nce_idt = family == "cut"
    overrides = {
        "model.family": family,
        "model.generator": "resnet_6blocks",
        "model.antialias": True,
        "model.init_type": "xavier",
        "loss.pool_size": 0,
        "loss.nce_idt": nce_idt,
        "loss.lambda_nce": 1.0 if nce_idt else 10.0,
        "loss.flip_equivariance": not nce_idt,
        "loss.num_patches": 8,
        "loss.projection_width": 16,
        "data.crop_size": 32,
        "data.batch_size": 1,
    }
    return helpers.tiny_config(model_dir, **overrides)


def _convs(network):
    return [layer for layer in network.layers if isinstance(layer, keras.layers.Conv2D)]


def _dense(model):
    return [dense for pair in model.projection_head.mlps for dense in pair]


def _set(layers, fixture, prefix):
    for i, layer in enumerate(layers):
        layer.kernel.assign(fixture[f"{prefix}{i}_kernel"])
        if layer.use_bias:
            layer.bias.assign(fixture[f"{prefix}{i}_bias"])


class CutParityTest(parameterized.TestCase, tf.test.TestCase):
    def _model(self, family):
        fixture = dict(np.load(os.path.join(_FIXTURES, f"{family}.npz")))
        model = cut.CUT(_config(family, self.get_temp_dir()), steps_per_epoch=1)
        _set(_convs(model.generator_a2b), fixture, "g_conv")
        _set(_convs(model.discriminator_b), fixture, "d_conv")
        _set(_dense(model), fixture, "f_dense")
        return model, fixture

    def _run(self, model, fixture, gradients_fn, layer_losses=None):
        """Calls ``gradients_fn`` with the fixture's patches (in its call order)."""
        ids = [fixture[k] for k in sorted(fixture, key=_order) if k.startswith("patch_ids")]
        layers = len(model.config.loss.nce_layer_indices)
        calls = iter([ids[i : i + layers] for i in range(0, len(ids), layers)])
        nce = patchnce.patch_nce

        def recorded(*args):
            value = nce(*args)
            if layer_losses is not None:
                layer_losses.append(float(value[0]))
            return value

        with (
            mock.patch.object(patchnce, "patch_ids", lambda *_: next(calls)),
            mock.patch.object(patchnce, "patch_nce", recorded),
        ):
            return gradients_fn(fixture["real_a"], fixture["real_b"], fixture["flipped"])

    def _assert_gradients(self, layers, variables, gradients, fixture, prefix):
        by_variable = {id(v): g for v, g in zip(variables, gradients)}
        for i, layer in enumerate(layers):
            # float32 sums in other orders through ~20 layers: errors relative to the
            # layer's largest kernel gradient. A bias before an instance norm has a zero
            # gradient in exact arithmetic: both sides hold rounding at that scale.
            scale = np.abs(fixture[f"{prefix}{i}_kernel"]).max()
            for part in ("kernel", "bias") if layer.use_bias else ("kernel",):
                expected = fixture[f"{prefix}{i}_{part}"]
                got = by_variable[id(getattr(layer, part))].numpy()
                message = f"{prefix}{i} {part}"
                self.assertAllClose(got, expected, atol=1e-4 * scale, rtol=0, msg=message)

    @parameterized.parameters("cut", "fastcut")
    def test_discriminator_step_matches_the_official(self, family):
        model, fixture = self._model(family)
        gradients, terms, total = self._run(model, fixture, model._discriminator_gradients)
        # Means of ~100 float32 squares, summed in other orders.
        for part in ("real", "fake"):
            expected = 0.5 * fixture[f"loss_D_{part}"]
            self.assertAllClose(terms[f"discriminator_b/{part}"][0], expected, rtol=1e-5)
        layers = _convs(model.discriminator_b)
        self._assert_gradients(layers, model.discriminator_variables, gradients, fixture, "d_grad")

    @parameterized.parameters("cut", "fastcut")
    def test_generator_step_matches_the_official(self, family):
        model, fixture = self._model(family)
        _set(_convs(model.discriminator_b), fixture, "d_new")  # The official updates D first.
        layer_losses = []
        gradients, terms, total = self._run(
            model, fixture, model._generator_gradients, layer_losses
        )
        expected = [fixture[k] for k in sorted(fixture, key=_order) if k.startswith("nce_layer")]
        self.assertAllClose(layer_losses, expected, rtol=1e-5)
        self.assertAllClose(terms["generator_a2b/adversarial"][0], fixture["loss_G_GAN"], rtol=1e-5)
        self.assertAllClose(total, fixture["loss_G"], rtol=1e-5)
        variables = model.generator_variables
        self._assert_gradients(_dense(model), variables, gradients, fixture, "f_grad")
        # The generator's: torch's autograd of the official loss disagrees with that loss's
        # own finite differences, so the fixture holds float64 central differences along one
        # random direction per kernel. float32 through ~20 layers: within 1e-3 of the
        # gradient's norm (a wrong term moves them by the order of the norm).
        by_variable = {id(v): g for v, g in zip(variables, gradients)}
        for i, layer in enumerate(_convs(model.generator_a2b)):
            gradient = by_variable[id(layer.kernel)].numpy()
            along = np.sum(gradient * fixture[f"g_direction{i}"])
            tolerance = 1e-3 * np.linalg.norm(gradient)
            self.assertAllClose(along, fixture[f"g_derivative{i}"], atol=tolerance, rtol=0)


def _order(key):
    """patch_ids10 after patch_ids9."""
    digits = "".join(c for c in key if c.isdigit())
    return (key.rstrip("0123456789"), int(digits or 0))


if __name__ == "__main__":
    tf.test.main()
