"""The official PyTorch CycleGAN generators, without PyTorch: their key layout (``official``)
and a run directory from them (``import_torch_lib``); the files are read by ``torch_files``."""
