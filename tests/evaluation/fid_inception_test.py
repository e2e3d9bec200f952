"""The standard FID network from either weights file equals PyTorch's (pytorch-fid's blocks).

The fixtures are the network narrowed 16x with random weights, written by
tools/fid_reference.py with the TorchScript's own forward as the reference, which that tool
shows equal to pytorch-fid's ``FIDInceptionV3`` on the real weights (max |diff| ~2e-6).
"""

import os

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.evaluation import fid_inception, inception
from tf_cyclegan.torch_files import pth


class FidInceptionTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(helpers.NARROW_FID_PTH, helpers.NARROW_FID_TORCHSCRIPT)
    def test_features_equal_pytorch_from_either_file(self, path):
        network = inception.load(path)
        self.assertEqual(network.kind, inception.STANDARD)
        got = inception.features(network, helpers.fid_fixture_images() * 2 - 1)
        want = np.load(helpers.NARROW_FID_FEATURES)
        # 94 float32 convolutions of at most ~900 terms, batch norm folded in here and not
        # there: rounding differences ~1e-6 of the features' scale; 1e-4 is the issue's bar.
        self.assertAllClose(got, want, atol=1e-4 * np.abs(want).max(), rtol=0)

    def test_computes_in_float32_under_a_mixed_precision_policy(self):
        policy = tf.keras.mixed_precision.global_policy()
        tf.keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            model = fid_inception.build(helpers.NARROW_FID_PTH)
        finally:
            tf.keras.mixed_precision.set_global_policy(policy)
        layers = [x for x in model.layers if not isinstance(x, tf.keras.layers.InputLayer)]
        computing = {layer.compute_dtype for layer in layers}
        self.assertEqual(computing, {"float32"})
        self.assertEqual(model.output.dtype, "float32")

    def test_a_generator_checkpoint_is_refused_in_one_line(self):
        other = os.path.join(helpers.FIXTURES, "pretrained", "resnet.pth")
        with self.assertRaisesRegex(pth.PthError, "neither pytorch-fid's") as caught:
            fid_inception.build(other)
        self.assertIn(other, str(caught.exception))
        self.assertNotIn("\n", str(caught.exception))

    def test_keras_weights_are_reported_under_their_own_names(self):
        network = inception.FeatureNetwork(None, inception.KERAS, "x.h5")
        self.assertEqual([network.metric(m) for m in ("fid", "kid")], ["keras_fid", "keras_kid"])
        self.assertIn("not comparable", network.description)


if __name__ == "__main__":
    tf.test.main()
