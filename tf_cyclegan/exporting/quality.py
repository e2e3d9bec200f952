"""``export --inception_weights``: the FID of every exported form, and the ones that lose it.

PSNR against the trained generator (``parity``) says how exactly a form computes; FID says
what a user sees of it. With the standard FID network, export translates each direction's
test split (all of it, at the ``.tflite`` size) with the SavedModel and each fixed-size
``.tflite`` variant, scores it against the target domain's real test images, records
``fid`` per artifact in ``export_report.json``, and flags (``fid_flag``, and a warning) a
variant more than ``FID_MARGIN`` worse than the SavedModel: full int8 of instance-norm
generators typically is.
"""

import os

import numpy as np
import tensorflow as tf
from absl import logging

from tf_cyclegan.common import conventions
from tf_cyclegan.data import sources
from tf_cyclegan.evaluation import evaluate_lib, fid, inception
from tf_cyclegan.exporting import tflite_export

FID_MARGIN = 5.0


def _saved_model_outputs(staging, direction, images):
    signature = tf.saved_model.load(os.path.join(staging, "saved_model")).signatures
    call = signature[f"{direction}_float"]
    return np.concatenate(
        [
            call(images=tf.constant(images[i : i + 8]))["images"].numpy()
            for i in range(0, len(images), 8)
        ]
    )


def add_fid(report, staging, config, directions, size, weights):
    """Adds ``fid`` (and ``fid_flag``) to ``report``'s artifacts; returns the flagged names.

    Args:
        report: the export's report, whose artifacts are written in ``staging``.
        config: the run's ``config.Config`` (its dataset's test splits are read).
        directions: the directions exported.
        size: the fixed ``.tflite`` side; every form translates the test images at it.
        weights: the standard FID network's weights (``inception.load``).
    """
    network = inception.load(weights)
    builder = sources.get_builder(config.data.dataset, config.data.data_dir)
    flagged = []
    for direction in directions:
        channels = config.model.direction_channels(direction)
        source = conventions.SOURCE_TEST[direction]
        target = conventions.TARGET_TEST[direction]
        images = evaluate_lib.split_images(builder, source, size, channels[0]).numpy()
        real = inception.features(
            network, evaluate_lib.split_images(builder, target, size, channels[1])
        )
        artifacts = report["artifacts"]
        outputs = {}
        if "saved_model" in artifacts:
            outputs["saved_model"] = _saved_model_outputs(staging, direction, images)
        for quantization in ("float32", "float16", "dynamic_range", "int8"):
            name = f"{direction}_{quantization}"
            if name in artifacts:
                path = os.path.join(staging, artifacts[name]["path"])
                outputs[name] = tflite_export.run(path, images)
        scores = {n: fid.fid(inception.features(network, y), real) for n, y in outputs.items()}
        base = scores.get("saved_model", min(scores.values()))
        for name, value in scores.items():
            entry = artifacts[name].setdefault("fid", {})
            entry[direction] = round(value, 2)
            if value > base + FID_MARGIN:
                artifacts[name]["fid_flag"] = (
                    f"FID {value:.1f} ({direction}) is {value - base:.1f} worse than the "
                    f"SavedModel's {base:.1f}"
                )
                logging.warning("%s: %s; ship a float variant", name, artifacts[name]["fid_flag"])
                flagged.append(name)
    report["fid"] = {
        "network": os.path.basename(network.source),
        "images": "every test image, translated at the .tflite size, against the target "
        "domain's real test images",
        "margin": FID_MARGIN,
    }
    return flagged
