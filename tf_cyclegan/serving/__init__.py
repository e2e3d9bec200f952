"""Running a trained or exported model: the exported module and its signatures
(``serving_module``), any model form behind one interface (``translators``), large photos in
tiles, LiteRT, video, and ``translate``'s library."""
