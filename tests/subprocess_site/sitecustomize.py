"""The test session's TensorFlow settings (conftest.py) for the commands the tests start.

``helpers.run_python`` puts this folder first on PYTHONPATH, so Python imports this module
when a command's interpreter starts: the command runs exactly as a user's would (its own
process, flags, exit status and signals) without the graph rewrites and thread pools that
cost seconds per process on the tests' tiny shapes.
"""

import importlib.util
import os
import sys

os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")  # As conftest.py.

import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})

# The tests' networks (tiny_generator.py, beside helpers.py), registered as in the tests'
# own process: the run directories they hand to commands name it.
_tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("tiny_generator", f"{_tests}/tiny_generator.py")
sys.modules["tiny_generator"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sys.modules["tiny_generator"])
