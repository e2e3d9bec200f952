"""Running a ``.tflite`` translator in LiteRT: the one place that drives an ``Interpreter``.

A file is one of: a fixed-size model, a dynamic-size model (any height and width the
generator allows), or a tiled model with ``<direction>_statistics`` and ``<direction>_tile``
signatures (``serving_module``). Inputs and outputs are float32 [1, h, w, c] in [-1, 1], c
the channels of the direction's domains (1 or 3).
(``export/translate_image.py`` repeats the few lines it needs on purpose: it stands alone.)
"""

import os
import statistics as statistics_lib
import time

import numpy as np
import tensorflow as tf

from tf_cyclegan.common import interrupts


def _interpreter(model_content, num_threads):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_content=model_content, num_threads=num_threads)


class TfliteModel:
    """One ``.tflite`` translator file.

    Args:
        path: a local or ``tf.io.gfile`` path.
        num_threads: LiteRT's threads; all cores by default.
    """

    def __init__(self, path, num_threads=None):
        with tf.io.gfile.GFile(path, "rb") as f:
            self.content = f.read()
        self.path = path
        self.num_threads = num_threads or os.cpu_count()
        self.interpreter = _interpreter(self.content, self.num_threads)
        self.signatures = list(self.interpreter.get_signature_list())
        self._input = self.interpreter.get_input_details()[0]

    @property
    def input_name(self):
        return self._input["name"]

    @property
    def channels(self):
        """(input, output) channels: 3 for RGB, 1 for grayscale."""
        tiled = self.tiled_direction()
        if tiled:
            runner = self.interpreter.get_signature_runner(f"{tiled}_tile")
            outputs = runner.get_output_details()
            return int(self._input["shape_signature"][-1]), int(outputs["images"]["shape"][-1])
        output = self.interpreter.get_output_details()[0]
        return int(self._input["shape_signature"][-1]), int(output["shape_signature"][-1])

    @property
    def fixed_size(self):
        """(height, width) the file was converted for, or None when any size runs."""
        if self._input["shape_signature"][1] > 0:
            return tuple(int(n) for n in self._input["shape"][1:3])
        return None

    def tiled_direction(self):
        """The direction of a tiled file ('a2b' or 'b2a'), or None for other files."""
        tiles = [key for key in self.signatures if key.endswith("_tile")]
        return tiles[0].removesuffix("_tile") if tiles else None

    def op_names(self):
        """The operator names the file uses, e.g. {"CONV_2D", "MIRROR_PAD"}."""
        return {op["op_name"] for op in self.interpreter._get_ops_details()}

    def run(self, x):
        """float32 [1, h, w, c] -> float32 [1, h, w, c] of a plain (untiled) file."""
        index = self._input["index"]
        # Dynamic-size models need the shape before allocation (else MIRROR_PAD fails).
        self.interpreter.resize_tensor_input(index, list(x.shape))
        self.interpreter.allocate_tensors()
        self.interpreter.set_tensor(index, np.asarray(x, np.float32))
        # Seconds to minutes for a large image: in a thread, so that signals act at once.
        interrupts.responsive(self.interpreter.invoke)()
        return self.interpreter.get_tensor(self.interpreter.get_output_details()[0]["index"])

    def statistics(self, x):
        """A tiled file's instance-norm statistics of float32 [1, h, w, c] images.

        Runs in an interpreter of its own, dropped after: its arena (the size of the whole
        image) is freed before the tiles allocate theirs.
        """
        own = _interpreter(self.content, self.num_threads)
        runner = own.get_signature_runner(f"{self.tiled_direction()}_statistics")
        return interrupts.responsive(runner)(images=np.asarray(x, np.float32))["statistics"]

    def tile(self, x, statistics):
        """A tiled file's output for one tile, float32 [1, h, w, c], under ``statistics``."""
        runner = self.interpreter.get_signature_runner(f"{self.tiled_direction()}_tile")
        inputs = dict(images=np.asarray(x, np.float32), statistics=statistics)
        return interrupts.responsive(runner)(**inputs)["images"]

    def translate(self, x):
        """float32 [1, h, w, c] -> same, whole: a tiled file as one tile with its statistics."""
        if self.tiled_direction():
            return self.tile(x, self.statistics(x))
        return self.run(x)

    def latency_ms(self, image, repeats=5):
        """Median milliseconds for one float32 [h, w, c] image after a warm-up (a tiled file:
        one tile the size of ``image``, statistics computed once)."""
        x = image[np.newaxis].astype(np.float32)
        if self.tiled_direction():
            statistics = self.statistics(x)
            invoke = lambda: self.tile(x, statistics)  # noqa: E731
        else:
            self.run(x)
            invoke = self.interpreter.invoke
        invoke()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            invoke()
            times.append(1000 * (time.perf_counter() - start))
        return round(statistics_lib.median(times), 1)
