"""Data: which dataset a run names (``sources``), the training pipeline (``pipeline``), image
folders and archives (``folders``, ``image_files``, ``prepare_lib``), the built-in dataset
(``synthetic``)."""
