"""Test-session setup shared by every test folder, before any test touches TensorFlow.

Splits the CPU into 2 logical devices, so the distribution tests can compare 2 replicas with
1 in the same process. No Grappler rewrites (below). One thread per op: the tests' tensors
are tiny (32 px, ngf 4), where splitting an op costs more than it gains, and the two pytest
workers (pyproject.toml) share two cores (measured: the same file ran ~10% faster serially,
more with two workers). Subprocesses (the command-line tests) keep TensorFlow's defaults.
"""

import os

# XLA's LLVM backend without optimisation: the XLA tests compile tiny graphs run once or
# twice, where compiling dominates (measured: the jit-vs-plain test 35 s -> 28 s). Set before
# TensorFlow starts; the HLO passes, which decide what is computed, are unchanged.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

import tensorflow as tf  # noqa: E402

import helpers  # noqa: E402, F401  (first of the tests' modules: it registers their networks)
from tf_cyclegan.training import distribute  # noqa: E402

distribute.configure_cpu_devices(2)
tf.config.threading.set_intra_op_parallelism_threads(1)
# Grappler's graph rewrites run on every new function graph: seconds per traced training
# step, for tiny graphs run a few times (measured: cyclegan_test 52 s -> 41 s without).
# Comparisons within a process see the same graphs on both sides.
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


# The folders whose test classes run longest (distribution, XLA, export, subprocess
# training): started first, so the two workers finish together instead of one running the
# longest classes alone at the end.
_LONGEST_FIRST = ("training", "distillation", "exporting", "commands")


def _start_order(item):
    folder = os.path.basename(os.path.dirname(str(item.path)))
    return _LONGEST_FIRST.index(folder) if folder in _LONGEST_FIRST else len(_LONGEST_FIRST)


def pytest_collection_modifyitems(config, items):
    """Drops tf.test.TestCase's ``test_session`` (a deprecated context manager, not a test)
    and starts the longest folders first (a stable sort: each file keeps its order)."""
    config.hook.pytest_deselected(items=[item for item in items if item.name == "test_session"])
    items[:] = sorted((item for item in items if item.name != "test_session"), key=_start_order)
