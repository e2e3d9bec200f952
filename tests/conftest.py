"""Splits the CPU into 2 logical devices before any test module touches TensorFlow, so the
distribution tests can compare 2 replicas with 1 in the same process."""

from tf_cyclegan.training import distribute

distribute.configure_cpu_devices(2)
