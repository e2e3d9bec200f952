"""Test-session setup shared by every test folder, before any test touches TensorFlow.

Splits the CPU into 2 logical devices, so the distribution tests can compare 2 replicas with
1 in the same process. One thread per op: the tests' tensors are tiny (32 px, ngf 4), where
splitting an op costs more than it gains, and the two pytest workers (pyproject.toml) share
two cores (measured: the same file ran ~10% faster serially, more with two workers).
Subprocesses (the command-line tests) keep TensorFlow's defaults.
"""

import tensorflow as tf

from tf_cyclegan.training import distribute

distribute.configure_cpu_devices(2)
tf.config.threading.set_intra_op_parallelism_threads(1)


def pytest_collection_modifyitems(config, items):
    """tf.test.TestCase's deprecated ``test_session`` is a context manager, not a test."""
    kept = [item for item in items if item.name != "test_session"]
    config.hook.pytest_deselected(items=[item for item in items if item.name == "test_session"])
    items[:] = kept
