"""Deployment: export (``export_lib``) to SavedModel signatures (``serving``) and TFLite
(``tflite_export``), checked by ``parity``; running any exported form (``translators``,
``translate_lib``), large photos in tiles (``tiling``)."""
