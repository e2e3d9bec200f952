"""The official PyTorch CycleGAN generators, without PyTorch: reading ``.pth`` files safely
(``pth``), their key layout (``official``), a run directory from them (``import_torch_lib``)."""
