"""The official PyTorch CycleGAN generators, without PyTorch: reading ``.pth`` files safely
(``pth``), writing them (``pth_writer``), their key layout (``official``), a run directory
from them (``import_torch_lib``)."""
