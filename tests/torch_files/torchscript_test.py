"""TorchScript archives (``torch.jit.save``) read as tensors by attribute path, no code run."""

import os
import zipfile

import numpy as np
import pth_forge
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.torch_files import pth

_MODULE = pth_forge._global("__torch__.inceptionv3", "Conv2dLayer")
# Hostile module records, opcode by opcode: what each may not make the reader do.
HOSTILE = {
    # A module whose attribute is the module itself: followed, it would never end.
    "self_reference": (_MODULE + b")\x81q\x00}(" + pth_forge._str("sub") + b"h\x00ub.", "itself"),
    # A record built from a list instead of an attribute dict.
    "state_not_a_dict": (_MODULE + b")\x81]b.", "attribute dict"),
    # A TorchScript class called with arguments, as a constructor would be.
    "constructor_call": (_MODULE + b"(K\x05tR.", "damaged"),
    # Code hidden behind a TorchScript-looking record still names a callable: refused.
    "system_call": (
        pth_forge._global("os", "system") + b"(" + pth_forge._str("true") + b"tR.",
        "os.system",
    ),
}


def _archive(directory, name, pickle_body):
    path = os.path.join(directory, f"{name}.pt")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/data.pkl", b"\x80\x02" + pickle_body)
        z.writestr(f"{name}/constants.pkl", b"\x80\x02).")
        # Code a loader would compile: this reader never opens it.
        z.writestr(f"{name}/code/__torch__/inceptionv3.py", "raise SystemExit(3)\n")
    return path


class TorchScriptTest(tf.test.TestCase, parameterized.TestCase):
    def test_tensors_are_named_by_attribute_path_in_file_order(self):
        with pth.open_state_dict(helpers.NARROW_FID_TORCHSCRIPT) as tensors:
            names = list(tensors)
            first = [f"net.layers.conv.{part}" for part in ("weight", "beta", "mean", "var")]
            self.assertEqual(names[:4], first)
            self.assertEqual(tensors["net.layers.conv.weight"].shape, (2, 3, 3, 3))
            self.assertIn("net.layers.mixed_10.tower_2_conv.var", names)
            self.assertLen(names, 94 * 4)  # Four tensors per convolution, nothing else.

    def test_values_equal_the_same_weights_saved_as_a_state_dict(self):
        script = pth.load_state_dict(helpers.NARROW_FID_TORCHSCRIPT)
        state = pth.load_state_dict(helpers.NARROW_FID_PTH)
        np.testing.assert_array_equal(
            script["net.layers.mixed_4.tower_1.conv_2.weight"],
            state["Mixed_6b.branch7x7dbl_3.conv.weight"],
        )

    @parameterized.parameters(*HOSTILE)
    def test_hostile_records_are_refused_naming_the_file(self, name):
        body, message = HOSTILE[name]
        path = _archive(self.get_temp_dir(), name, body)
        with self.assertRaisesRegex(pth.PthError, message) as caught:
            pth.load_state_dict(path)
        self.assertIn(path, str(caught.exception))


if __name__ == "__main__":
    tf.test.main()
