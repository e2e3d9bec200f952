"""Turns a run's generators into a SavedModel and TFLite files, and proves each one.

Every written artifact is run on held-out images (SavedModel through TensorFlow, .tflite
through LiteRT's Interpreter) and compared with the trained Keras generator; the figures go
to ``export_report.json``. The default artifacts have PSNR floors that are the contract.
"""

import dataclasses
import json
import os
import shutil
import sys

import numpy as np
import tensorflow as tf
import tqdm
from absl import logging

from tf_cyclegan.common import (
    architectures,
    atomic_dir,
    conventions,
    errors,
    precision,
    run_dir,
    writable,
)
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.data import pipeline, sources
from tf_cyclegan.exporting import litertjs, parity, quality, tflite_export, web_export
from tf_cyclegan.networks import models, restore
from tf_cyclegan.pretrained import official
from tf_cyclegan.serving import serving_module
from tf_cyclegan.torch_files import pth, pth_writer

FORMATS = ("saved_model", "tflite", "pth", "web")
REPORT_FILE = serving_module.REPORT_FILE
SAVED_MODEL = serving_module.SAVED_MODEL
QUANTIZATIONS = ("float32", "float16", "dynamic_range", "int8")
SAVED_MODEL_PRECISIONS = (precision.AUTO, precision.FLOAT32, "bfloat16")


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """What to export, from where, to where."""

    model_dir: str
    export_dir: str
    checkpoint: str | None = None
    formats: tuple = ("saved_model", "tflite")
    quantizations: tuple = ("float32", "float16")
    tflite_size: int | None = None
    dynamic_tflite: bool = True
    representative_images: int = 32
    parity_images: int = 4
    overwrite: bool = False
    # float32 by default: a SavedModel usually serves on other machines than the one that
    # exports it, and emulated bfloat16 is slower than float32.
    saved_model_precision: str = precision.FLOAT32
    # The node_modules folder holding @litertjs/core for the web page; None: found or
    # fetched (exporting.litertjs).
    litertjs: str | None = None
    # The standard FID network's weights: adds each artifact's FID to the report and flags
    # the variants that lose more than quality.FID_MARGIN of it (exporting.quality).
    inception_weights: str | None = None


def _held_out(config, split, count, size):
    """Held-out images in [-1, 1] with their domain's channels, or seeded noise when the
    dataset is not available here."""

    channels = config.model.channels(conventions.SPLIT_DOMAIN[split])
    try:
        builder = sources.get_builder(config.data.dataset, config.data.data_dir)
        return pipeline.sample_images(builder, split, count, size, channels).numpy()
    except (errors.DataUnavailableError, ValueError, tf.errors.OpError) as e:
        logging.warning("Using random images for %s: the dataset is unavailable (%s)", split, e)
        rng = np.random.default_rng(0)
        return rng.uniform(-1, 1, size=(count, size, size, channels)).astype(np.float32)


def _validate(cfg):
    for value, valid, flag in (
        (cfg.formats, FORMATS, "formats"),
        (cfg.quantizations, QUANTIZATIONS, "quantization"),
        ((cfg.saved_model_precision,), SAVED_MODEL_PRECISIONS, "saved_model_precision"),
    ):
        unknown = [v for v in value if v not in valid]
        if unknown or not value:
            raise errors.ConfigError(f"--{flag}={','.join(value)}: expected some of {list(valid)}")
    if "://" in cfg.export_dir:
        raise errors.ConfigError(
            f"--export_dir={cfg.export_dir}: export writes to a local folder; copy it after"
        )
    writable.require_folder(cfg.export_dir, "export_dir")
    atomic_dir.recover(cfg.export_dir)
    if os.path.exists(cfg.export_dir):
        _check_replaceable(cfg)


def _export_names(report):
    """The names an export wrote, from its report."""
    names = {REPORT_FILE, run_dir.CONFIG_FILE, SAVED_MODEL, web_export.WEB_DIR}
    return names | {a["path"] for a in report.get("artifacts", {}).values() if "path" in a}


def _check_replaceable(cfg):
    """Refuses to replace anything but a complete previous export holding only its files."""
    target = cfg.export_dir
    if not os.path.isdir(target):
        raise errors.ConfigError(f"--export_dir={target} is a file; choose a folder path")
    if not cfg.overwrite:
        raise errors.ConfigError(f"{target} exists; pass --overwrite to replace that export")
    if "://" not in cfg.model_dir and os.path.realpath(target) == os.path.realpath(cfg.model_dir):
        raise errors.ConfigError(f"--export_dir={target} is the training run itself")
    report_path = os.path.join(target, REPORT_FILE)
    try:
        with open(report_path) as f:
            report = json.load(f)
    except (OSError, ValueError):
        raise errors.ConfigError(
            f"--overwrite refuses {target}: it is not an export (no readable {REPORT_FILE}); "
            "choose another --export_dir"
        ) from None
    foreign = sorted(set(os.listdir(target)) - _export_names(report))
    if foreign:
        raise errors.ConfigError(
            f"--overwrite refuses {target}: it holds files that export did not write "
            f"({', '.join(foreign[:5])}); move them, or choose another --export_dir"
        )


def _with_web_needs(cfg):
    """``cfg`` with what the web page needs: a float .tflite (float16 unless a float one is
    asked for) and LiteRT.js, found or fetched (``litertjs.locate``)."""
    if "web" not in cfg.formats:
        return cfg
    formats = cfg.formats if "tflite" in cfg.formats else (*cfg.formats, "tflite")
    quantizations = cfg.quantizations
    if not {"float16", "float32"} & set(quantizations):
        quantizations = ("float16", *quantizations)
    node_modules = litertjs.locate(cfg.litertjs, web_export.required_files())
    return dataclasses.replace(
        cfg, formats=formats, quantizations=quantizations, litertjs=node_modules
    )


def export(cfg):
    """Writes and verifies the artifacts ``cfg`` asks for. Returns the report dict."""
    _validate(cfg)
    cfg = _with_web_needs(cfg)
    config, generators, checkpoint = restore.load_generators(cfg.model_dir, cfg.checkpoint)
    size = cfg.tflite_size or config.data.crop_size
    architectures.check_size(config.model.generator, size, "--tflite_size")
    multiple = architectures.get(config.model.generator).size_multiple
    translator = serving_module.ServingModule(
        generators, multiple, tileable=models.tileable(config.model)
    )
    for stale in atomic_dir.remove_stale(cfg.export_dir):
        logging.info("Removed %s, left by an export that was killed", stale)
    staging = atomic_dir.make_staging(cfg.export_dir)
    report = {
        "checkpoint": checkpoint,
        "generator": config.model.generator,
        "tflite_size": size,
        "artifacts": {},
    }
    splits = {d: (conventions.SOURCE_TEST[d], conventions.SOURCE_TRAIN[d]) for d in generators}
    # Held-out images and the trained generators' outputs: the reference for every artifact.
    held_out = {}
    for direction, (split, _) in splits.items():
        images = _held_out(config, split, cfg.parity_images, size)
        held_out[direction] = (images, generators[direction](images, training=False).numpy())
    # On a terminal: one step per direction's TFLite files, then per other format.
    stages = len(splits) * ("tflite" in cfg.formats) + len(set(cfg.formats) - {"tflite"})
    bar = tqdm.tqdm(total=stages, unit="artifact", file=sys.stdout, disable=None)
    try:
        for direction, (_, train_split) in splits.items():
            if "tflite" not in cfg.formats:
                break
            bar.set_description(f"tflite {direction}")
            images, expected = held_out[direction]
            rep = None
            if "int8" in cfg.quantizations:
                rep = _held_out(config, train_split, cfg.representative_images, size)
            report["artifacts"].update(
                tflite_export.export_direction(
                    translator,
                    direction,
                    size,
                    cfg.quantizations,
                    cfg.dynamic_tflite,
                    staging,
                    images,
                    expected,
                    rep,
                )
            )
            bar.update()
        if "web" in cfg.formats:
            bar.set_description("web")
            report["web"] = _export_web(cfg, config, staging, size, generators)
            bar.update()
        if "saved_model" in cfg.formats:
            bar.set_description("saved_model")
            computes_in = precision.resolve(cfg.saved_model_precision)[0]
            serving = translator
            if computes_in != precision.FLOAT32:
                serving = _serving_in(computes_in, config, generators, multiple)
            report["artifacts"]["saved_model"] = _export_saved_model(
                serving, staging, held_out, computes_in
            )
            bar.update()
        if "pth" in cfg.formats:
            bar.set_description("pth")
            pth_files = _export_pth(config.model, generators, staging, held_out)
            report["artifacts"].update(pth_files)
            bar.update()
        if cfg.inception_weights:
            bar.set_description("fid")
            quality.add_fid(report, staging, config, list(generators), size, cfg.inception_weights)
        config_lib.save(config, staging)
        # Written last: its presence marks a complete export that --overwrite may replace.
        with open(os.path.join(staging, REPORT_FILE), "w") as f:
            json.dump(report, f, indent=2)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; an export is for sharing.
        atomic_dir.replace(staging, cfg.export_dir)
    finally:
        bar.close()
        if os.path.exists(staging):  # Only a failed export leaves its own staging behind.
            shutil.rmtree(staging)
    return report


def _export_web(cfg, config, staging, size, generators):
    """The browser page over each direction's smallest float .tflite (float16 if written)."""
    variant = "float16" if "float16" in cfg.quantizations else "float32"
    models = {
        d: {
            "file": f"{d}_{variant}.tflite",
            "size": size,
            "channels": list(config.model.direction_channels(d)),
        }
        for d in generators
    }
    return web_export.write(staging, cfg.litertjs, models)


def _serving_in(computes_in, config, generators, multiple):
    """A ``ServingModule`` over copies of ``generators`` computing in ``computes_in``."""
    with precision.dtype_policy(computes_in):  # Float32 weights: the same ones, copied.
        copies = {
            d: models.build_generator(config.model, name=g.name, direction=d)
            for d, g in generators.items()
        }
    for direction, copy in copies.items():
        copy.set_weights(generators[direction].get_weights())
    return serving_module.ServingModule(copies, multiple, tileable=models.tileable(config.model))


def _export_saved_model(translator, staging, held_out, computes_in):
    """Writes the SavedModel, reloads it, and compares it with the (float32) reference."""
    path = os.path.join(staging, SAVED_MODEL)
    tf.saved_model.save(translator, path, signatures=translator.signatures())
    loaded = tf.saved_model.load(path)
    worst = None
    for direction, (images, expected) in held_out.items():
        actual = loaded.signatures[f"{direction}_float"](images=tf.constant(images))["images"]
        figures = parity.compare(expected, actual.numpy())
        if worst is None or figures["psnr_db"] < worst["psnr_db"]:
            worst = figures
    variant = "saved_model" if computes_in == precision.FLOAT32 else f"saved_model_{computes_in}"
    parity.check("saved_model", variant, worst)
    size_bytes = sum(
        os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files
    )
    return {"path": SAVED_MODEL, "size_bytes": size_bytes, "precision": computes_in, **worst}


def _export_pth(model_config, generators, staging, held_out):
    """Writes each generator as the official PyTorch state dict (``<direction>_net_G.pth``),
    reads it back into a fresh generator and compares that with the trained one."""

    official.check_exportable(model_config)
    report = {}
    for direction, (images, expected) in held_out.items():
        name = f"{direction}_net_G"
        path = os.path.join(staging, f"{name}.pth")
        state = official.state_dict(generators[direction], model_config.generator)
        pth_writer.save_state_dict(state, path)
        reread = models.build_generator(model_config, direction=direction)
        official.assign(reread, pth.load_state_dict(path), model_config.generator)
        figures = parity.compare(expected, reread(images, training=False).numpy())
        parity.check(name, "pth", figures)
        report[name] = {"path": os.path.basename(path), "size_bytes": os.path.getsize(path)}
        report[name].update(figures)
    return report
