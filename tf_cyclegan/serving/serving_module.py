"""The serving graph: both generators behind size-agnostic uint8 and float signatures.

Signatures (the contract in export/README.md); ``c`` is 3 for RGB domains, 1 for grayscale
ones (``--input_nc``/``--output_nc``), the output's ``c`` that of the target domain:
- ``a2b`` / ``b2a``: ``images`` uint8 [batch, height, width, c], any height and width >= 1
  -> ``images`` uint8 [batch, height, width, c].
- ``a2b_float`` / ``b2a_float``: ``images`` float32 [batch, height, width, c] in [-1, 1]
  -> float32 of the same height and width in [-1, 1].
- ``a2b_statistics`` / ``b2a_statistics`` (ResNet generators): ``images`` float32
  [1, height, width, c] -> ``statistics`` float32 [k]: every instance norm's per-channel
  mean and variance for that image, concatenated in layer order.
- ``a2b_tile`` / ``b2a_tile``: ``images`` float32 [1, height, width, c] and ``statistics``
  -> ``images``: the translation with every instance norm using the given statistics. A large
  photo is translated as overlapping tiles sharing the statistics of a downscaled copy
  (``tiling.py``): bounded memory at any size.
Padding to what the network needs (symmetric, in doubling steps, so that even a 1-pixel image
reaches it) and cropping back happen inside the graph.
"""

import tensorflow as tf

from tf_cyclegan.common import conventions
from tf_cyclegan.networks import layers

DIRECTIONS = conventions.DIRECTIONS
# Tiled translation: pixels of context kept on each side of a tile, beyond the receptive
# radius of the generators that are tiled (the registry's receptive_radius), and the
# alignment of tile origins to the generators' total stride, so tiles see the pixel grid the
# whole image sees.
TILE_MARGIN = 96
TILE_ALIGN = 4
# An export directory: the SavedModel's folder, and the report whose presence marks a
# complete export.
SAVED_MODEL = "saved_model"
REPORT_FILE = "export_report.json"


def pad_to_multiple(images, multiple, minimum):
    """Pads height and width up to a multiple of ``multiple`` (and at least ``minimum``).

    Args:
        images: float32 [batch, height, width, channels], channels static.

    Returns:
        (padded float32 [batch, H, W, channels], height, width) with the original height,
        width.
    """
    shape = tf.shape(images)
    height, width = shape[1], shape[2]
    target_h = tf.maximum((height + multiple - 1) // multiple * multiple, minimum)
    target_w = tf.maximum((width + multiple - 1) // multiple * multiple, minimum)
    # SYMMETRIC padding may add at most the current size, so an image smaller than the
    # target grows in doubling steps; enough steps for a 1-pixel image to reach the target.
    x = images
    for _ in range(max(1, (max(multiple, minimum) - 1).bit_length())):
        h, w = tf.shape(x)[1], tf.shape(x)[2]
        step_h = tf.minimum(target_h - h, h)
        step_w = tf.minimum(target_w - w, w)
        x = tf.pad(x, [[0, 0], [0, step_h], [0, step_w], [0, 0]], mode="SYMMETRIC")
    # An explicit channel count keeps the graph free of dynamic-channel ops (TFLite builtins).
    x = tf.reshape(x, tf.stack([shape[0], target_h, target_w, images.shape[-1]]))
    return x, height, width


class ServingModule(tf.Module):
    """The generators with their preprocessing, ready for ``tf.saved_model.save``.

    Args:
        generators: {direction: keras.Model}, both or one, float32 [-1, 1] in and out.
        multiple: height and width the generators need to be multiples of.
        minimum: the smallest height and width they accept.
    """

    def __init__(self, generators, multiple, minimum=8, tileable=False):
        super().__init__(name="translator")
        # Not an attribute: a tracked Keras model would store every weight a second time.
        self._generator = generators.__getitem__
        self.multiple, self.minimum = multiple, minimum
        # Both directions, or the one an imported run holds.
        self.directions = tuple(d for d in DIRECTIONS if d in generators)
        # Track the raw tf.Variables: a Module that only holds a Keras 3 model exports
        # without weights to TFLite.
        for direction in self.directions:
            setattr(
                self, f"weights_{direction}", [v.value for v in generators[direction].variables]
            )
        for direction in self.directions:
            channels = self.channels(direction)[0]
            float_spec = tf.TensorSpec([None, None, None, channels], tf.float32, name="images")
            uint8_spec = tf.TensorSpec([None, None, None, channels], tf.uint8, name="images")
            run_float = self._float_fn(direction)
            setattr(
                self, f"{direction}_float", tf.function(run_float, input_signature=[float_spec])
            )
            run_uint8 = self._uint8_fn(run_float)
            setattr(self, direction, tf.function(run_uint8, input_signature=[uint8_spec]))
        self.tileable = tileable
        if tileable:
            self._statistics_sizes = {d: self._statistics_layout(d) for d in self.directions}
            stats_spec = tf.TensorSpec([None], tf.float32, name="statistics")
            for direction in self.directions:
                channels = self.channels(direction)[0]
                one_image = tf.TensorSpec([1, None, None, channels], tf.float32, name="images")
                setattr(
                    self,
                    f"{direction}_statistics",
                    tf.function(self._statistics_fn(direction), input_signature=[one_image]),
                )
                setattr(
                    self,
                    f"{direction}_tile",
                    tf.function(self._tile_fn(direction), input_signature=[one_image, stats_spec]),
                )

    def channels(self, direction):
        """(input, output) channels of ``direction``'s generator: 3 (RGB) or 1 (grayscale)."""
        generator = self._generator(direction)
        return int(generator.inputs[0].shape[-1]), int(generator.outputs[0].shape[-1])

    def _float_fn(self, direction):
        generator = self._generator(direction)

        def translate(images):
            padded, height, width = pad_to_multiple(images, self.multiple, self.minimum)
            outputs = generator(padded, training=False)
            return {"images": outputs[:, :height, :width, :]}

        return translate

    def _statistics_layout(self, direction):
        """The channel count of each instance norm, in call order."""
        with layers.instance_norm_statistics() as statistics:
            channels = self.channels(direction)[0]
            self._generator(direction)(tf.zeros([1, 16, 16, channels]), training=False)
        return [int(mean.shape[-1]) for mean, _ in statistics.recorded]

    def _statistics_fn(self, direction):
        generator = self._generator(direction)

        def statistics(images):
            padded, _, _ = pad_to_multiple(images, self.multiple, self.minimum)
            with layers.instance_norm_statistics() as rec:
                generator(padded, training=False)
            flat = [tf.reshape(t, [-1]) for pair in rec.recorded for t in pair]
            return {"statistics": tf.concat(flat, axis=0)}

        statistics.__name__ = f"{direction}_statistics"  # The TFLite signature's name.
        return statistics

    def _tile_fn(self, direction):
        generator = self._generator(direction)
        sizes = self._statistics_sizes[direction]

        def tile(images, statistics):
            parts = tf.split(statistics, [c for c in sizes for _ in range(2)])
            given = [
                (tf.reshape(parts[i], [1, 1, 1, -1]), tf.reshape(parts[i + 1], [1, 1, 1, -1]))
                for i in range(0, len(parts), 2)
            ]
            padded, height, width = pad_to_multiple(images, self.multiple, self.minimum)
            with layers.instance_norm_statistics(given):
                outputs = generator(padded, training=False)
            return {"images": outputs[:, :height, :width, :]}

        tile.__name__ = f"{direction}_tile"
        return tile

    def _uint8_fn(self, run_float):
        def translate(images):
            x = conventions.to_float(images)
            y = run_float(x)["images"]
            return {"images": conventions.to_uint8(y)}

        return translate

    def tflite_function(self, direction, size):
        """A float32 [-1, 1] concrete function for TFLite, batch 1.

        Args:
            size: a fixed height and width (a valid multiple: no padding ops), or None for a
                dynamic size (padded and cropped in the graph).
        """
        channels = self.channels(direction)[0]
        if size is None:
            spec = tf.TensorSpec([1, None, None, channels], tf.float32, name=f"{direction}_images")
            return tf.function(self._float_fn(direction)).get_concrete_function(spec)
        generator = self._generator(direction)
        spec = tf.TensorSpec([1, size, size, channels], tf.float32, name=f"{direction}_images")
        run = tf.function(lambda images: {"images": generator(images, training=False)})
        return run.get_concrete_function(spec)

    def tflite_tiled_functions(self, direction):
        """The statistics and tile functions, for one .tflite with both signatures."""
        return [
            getattr(self, f"{direction}_{kind}").get_concrete_function()
            for kind in ("statistics", "tile")
        ]

    def signatures(self):
        """The serving signatures, for ``tf.saved_model.save(..., signatures=...)``."""
        out = {}
        for direction in self.directions:
            out[direction] = getattr(self, direction).get_concrete_function()
            out[f"{direction}_float"] = getattr(self, f"{direction}_float").get_concrete_function()
            if self.tileable:
                for kind in ("statistics", "tile"):
                    out[f"{direction}_{kind}"] = getattr(
                        self, f"{direction}_{kind}"
                    ).get_concrete_function()
        return out
