"""The test session's TensorFlow settings (conftest.py) for the commands the tests start.

``helpers.run_python`` puts this folder first on PYTHONPATH, so Python imports this module
when a command's interpreter starts: the command runs exactly as a user's would (its own
process, flags, exit status and signals) without the graph rewrites and thread pools that
cost seconds per process on the tests' tiny shapes.
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")  # As conftest.py.

import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
