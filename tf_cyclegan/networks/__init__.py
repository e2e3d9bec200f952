"""The networks: layers (own instance norm, PyTorch-compatible padding), the convolution
paths, the generators and discriminators built from the architecture registry, the
phone-size students, MAC counts, and restoring a run's generators."""
