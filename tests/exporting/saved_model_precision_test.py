"""export --saved_model_precision: a SavedModel that computes in bfloat16, checked against
the float32 generators it was exported from."""

import os
import tempfile

import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.common import errors
from tf_cyclegan.exporting import export_lib


def _conv_dtypes(saved_model):
    """The dtypes the SavedModel's 2-D convolutions compute in (every nested function)."""
    graph = saved_model.signatures["a2b"].graph.as_graph_def()
    nodes = [n for f in graph.library.function for n in f.node_def] + list(graph.node)
    return {tf.dtypes.as_dtype(n.attr["T"].type).name for n in nodes if n.op == "Conv2D"}


class SavedModelPrecisionTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(("float32", 50), ("bfloat16", 40))
    def test_saved_model_computes_in_its_precision_within_its_floor(self, precision, floor):
        export_dir = os.path.join(tempfile.mkdtemp(), "exported")
        report = export_lib.export(
            export_lib.ExportConfig(
                helpers.trained_run(),
                export_dir,
                formats=("saved_model",),
                parity_images=2,
                saved_model_precision=precision,
            )
        )
        figures = report["artifacts"]["saved_model"]
        self.assertEqual(figures["precision"], precision)
        self.assertGreaterEqual(figures["psnr_db"], floor)  # Against the float32 generators.
        loaded = tf.saved_model.load(os.path.join(export_dir, "saved_model"))
        self.assertEqual(_conv_dtypes(loaded), {precision})

    def test_unknown_precision_is_named(self):
        config = export_lib.ExportConfig(
            helpers.trained_run(), self.get_temp_dir() + "/x", saved_model_precision="int4"
        )
        with self.assertRaisesRegex(errors.ConfigError, "--saved_model_precision=int4"):
            export_lib.export(config)


if __name__ == "__main__":
    tf.test.main()
