"""Test-session setup shared by every test folder.

Splits the CPU into 2 logical devices before any test module touches TensorFlow, so the
distribution tests can compare 2 replicas with 1 in the same process.
"""

from tf_cyclegan.training import distribute

distribute.configure_cpu_devices(2)


def pytest_collection_modifyitems(config, items):
    """tf.test.TestCase's deprecated ``test_session`` is a context manager, not a test."""
    kept = [item for item in items if item.name != "test_session"]
    config.hook.pytest_deselected(items=[item for item in items if item.name == "test_session"])
    items[:] = kept
