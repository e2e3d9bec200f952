"""Export: SavedModel and TFLite (``tflite_export``), each checked against the trained
generators (``parity``), with the LiteRT delegates' op lists (``delegates``)."""
