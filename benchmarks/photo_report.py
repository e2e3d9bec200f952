"""``real_photos.py``'s report of a trained run: tables, curve, grid, the PyTorch comparison."""

import os

import numpy as np
import photo_quality
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

from tf_cyclegan.common import conventions, run_dir
from tf_cyclegan.data import sources
from tf_cyclegan.evaluation import inception
from tf_cyclegan.networks import restore


def fid_curve(model_dir):
    """{"a2b/fid": [(step, value), ...], ...} of the run's evaluations in TensorBoard."""
    events = event_accumulator.EventAccumulator(
        os.path.join(model_dir, run_dir.TRAIN_LOGS), size_guidance={"tensors": 0}
    ).Reload()
    curve = {}
    for tag in events.Tags()["tensors"]:
        if tag.startswith("eval/") and tag.endswith("/fid"):
            values = {
                e.step: float(tensor_util.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)
            }
            curve[tag.removeprefix("eval/")] = sorted(values.items())
    return curve


def _print_curve(curve):
    steps = sorted({s for points in curve.values() for s, _ in points})
    if not steps:
        return
    print("\nFID curve during training (TensorBoard eval/*/fid, training resolution):")
    print("| step | " + " | ".join(str(s) for s in steps) + " |")
    print("| --- |" + " --- |" * len(steps))
    for name, points in sorted(curve.items()):
        values = dict(points)
        cells = [f"{values[s]:.1f}" if s in values else "-" for s in steps]
        print(f"| {name} | " + " | ".join(cells) + " |")


def _checkpoints(model_dir):
    """[(label, checkpoint or None)]: the newest, and the best when the run keeps one."""
    labelled = [("final", None)]
    if run_dir.read_best(model_dir):
        labelled.append(("best", run_dir.BEST))
    return labelled


def measure(model_dir, weights, published_size, grid_images):
    """Prints and returns the figures of the final and best checkpoints of ``model_dir``."""
    config = restore.load_generators(model_dir)[0]
    builder = sources.get_builder(config.data.dataset, config.data.data_dir)
    network = inception.load(weights)
    sizes = [config.data.crop_size] + [
        s for s in [published_size] if s and s != config.data.crop_size
    ]
    # The judge sees every training photo at the dataset's largest measured size.
    classifier = photo_quality.judge(builder, network, sizes[-1])
    real = {size: photo_quality.real_images(builder, network, size) for size in sizes}
    report = {"sizes": sizes, "network": os.path.basename(network.source)}
    report["batch_size"] = config.data.batch_size
    for size in sizes:
        accuracy = classifier.accuracy(real[size].features)
        print(f"Classifier accuracy on the real test photos at {size} px: {accuracy:.3f}")
        report[f"classifier_accuracy_{size}"] = accuracy
    counts = {s: len(v) for s, v in real[sizes[0]].test.items()}
    print(f"Test images: {counts}; standard FID Inception ({report['network']})")
    print(photo_quality.TABLE_HEADER)
    for label, checkpoint in _checkpoints(model_dir):
        _, generators, path = restore.load_generators(model_dir, checkpoint)
        step = int(path.rsplit("-", 1)[-1])
        entry = {"checkpoint": path, "step": step}
        calls = photo_quality.inference_calls(generators)
        for size in sizes:
            rows, translations = photo_quality.translation_rows(
                calls, real[size], network, classifier
            )
            for direction, row in rows.items():
                print(photo_quality.table_row(f"{label} (step {step})", size, direction, row))
            entry[str(size)] = rows
            if label == "final" and size == sizes[-1]:
                report["grid"] = _grid(model_dir, step, real[size], translations, grid_images)
                report["figure_pairs"] = (real[size].test["testA"], translations.get("a2b"))
        report[label] = entry
    report["curve"] = fid_curve(model_dir)
    _print_curve(report["curve"])
    return report


def _grid(model_dir, step, real, translations, count):
    """Writes rows of [source | translation] for the first ``count`` test images each way."""
    rows = []
    for direction, fake in translations.items():
        source = real.test[conventions.SOURCE_TEST[direction]]
        rows += [np.concatenate([s, t], axis=1) for s, t in zip(source[:count], fake[:count])]
    path = os.path.join(model_dir, f"real_photos_grid_step_{step}.png")
    _save(np.concatenate(rows, axis=0), path)
    print(f"Grid (held-out A photos then B photos, each beside its translation): {path}")
    return path


def _save(image, path, quality=None):
    from PIL import Image

    pixels = Image.fromarray(conventions.to_uint8(np.asarray(image)))
    pixels.save(path, **({"quality": quality} if quality else {}))


def figure(path, pairs, count):
    """The README's figure: ``count`` (<= 8) test photos beside their a2b translations, two
    pairs to a row, as a JPEG."""
    sources_, fakes = pairs
    count = min(count, 8, len(sources_))
    tiles = [np.concatenate([s, t], axis=1) for s, t in zip(sources_[:count], fakes[:count])]
    if len(tiles) % 2:
        tiles.append(np.full_like(tiles[0], 1.0))
    rows = [np.concatenate(tiles[i : i + 2], axis=1) for i in range(0, len(tiles), 2)]
    _save(np.concatenate(rows, axis=0), path, quality=88)
    print(f"Figure ({count} pairs): {path}")


def dump_test_images(model_dir, path):
    """Writes the run's test images at its training resolution, as training evaluates them."""
    config = restore.load_generators(model_dir)[0]
    builder = sources.get_builder(config.data.dataset, config.data.data_dir)
    size = config.data.crop_size
    images = {
        s: photo_quality.real_images_of_split(builder, s, size) for s in conventions.TEST_SPLITS
    }
    np.savez(path, **images)
    print(f"Wrote {path}: { ({k: v.shape for k, v in images.items()}) }")


def compare_with_torch(model_dir, weights, torch_dir, archive):
    """Scores the official iteration's translations (``step_N.npz``) beside our checkpoints of
    the same steps, at the training resolution, on the same images and references."""
    import json

    config = restore.load_generators(model_dir)[0]
    builder = sources.get_builder(config.data.dataset, config.data.data_dir)
    network = inception.load(weights)
    size = config.data.crop_size
    real = photo_quality.real_images(builder, network, size)
    classifier = photo_quality.judge(builder, network, size)
    with open(os.path.join(torch_dir, "log.json")) as f:
        log = json.load(f)
    torch_seconds = dict(zip(log["steps"], log["seconds"]))
    print(f"At {size} px; FID a2b / b2a (share in the target domain a2b / b2a)")
    print("| step | official iteration (PyTorch) | s/step | ours | ")
    print("| --- | --- | --- | --- |")
    for step in sorted(torch_seconds):
        translated = np.load(os.path.join(torch_dir, f"step_{step}.npz"))
        theirs = {
            d: photo_quality.score(translated[d], d, real, network, classifier)
            for d in conventions.DIRECTIONS
        }
        ours = _ours_at(model_dir, archive, step, real, network, classifier)
        ours = _pair(ours) if ours else "-"
        print(f"| {step} | {_pair(theirs)} | {torch_seconds[step] / step:.3f} | {ours} |")


def _ours_at(model_dir, archive, step, real, network, classifier):
    """Our figures at ``step`` from the run's checkpoint of that step (or its archived copy)."""
    for folder in (model_dir, archive):
        prefix = folder and run_dir.checkpoint_path(folder, step)
        if prefix and os.path.exists(f"{prefix}.index"):
            _, generators, _ = restore.load_generators(model_dir, prefix)
            calls = photo_quality.inference_calls(generators)
            return photo_quality.translation_rows(calls, real, network, classifier)[0]
    return None


def _pair(rows):
    fids = " / ".join(f"{rows[d]['fid']:.1f}" for d in conventions.DIRECTIONS)
    shares = " / ".join(f"{rows[d]['share']:.2f}" for d in conventions.DIRECTIONS)
    return f"{fids} ({shares})"
