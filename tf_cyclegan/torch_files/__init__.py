"""PyTorch files without PyTorch: reading ``.pth`` state dicts and TorchScript archives safely
(``pth``, ``pth_records``: no pickled code is ever run) and writing state dicts
(``pth_writer``)."""
