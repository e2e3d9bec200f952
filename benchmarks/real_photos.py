r"""Real photos: cat <-> dog translation measured with the standard FID, within a time budget.

  python benchmarks/real_photos.py --inception_weights=default_1.pt \
      [--data=../shared/data/cats_dogs] [--minutes=60] [--model_dir=/tmp/real_photos]

Trains ``python -m tf_cyclegan.train --flagfile=flags/real_photos.cfg`` on a CycleGAN folder
dataset (trainA cats, trainB dogs, testA, testB) until its schedule ends or ``--minutes`` of
wall time pass (then it is interrupted, which saves the step reached), with the FID curve on
the test split in TensorBoard. Then, measured in this run with the standard FID network,
equal image counts on every side:

- FID and KID of each direction: translated test images vs the target domain's real test
  images; beside them the untranslated baseline (source test vs target test) and the floor
  (target training images vs target test images: real vs real);
- the share of translated test images that an independent classifier (logistic regression
  on the FID network's features of the real training images) assigns to the target domain;
- steps, wall time and images/s; a grid of held-out photos and translations (PNG).
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
from absl import app, flags
from common import cpu_description

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DATA = flags.DEFINE_string(
    "data", os.path.join(ROOT, "..", "shared", "data", "cats_dogs"), "A CycleGAN folder."
)
_WEIGHTS = flags.DEFINE_string(
    "inception_weights", None, "The standard FID network (.pth or .pt).", required=True
)
_MINUTES = flags.DEFINE_float("minutes", 60.0, "Wall-clock budget of the training.")
_MODEL_DIR = flags.DEFINE_string("model_dir", "/tmp/real_photos", "The run directory.")
_EXTRA = flags.DEFINE_multi_string("train_flag", [], "More flags for train (repeatable).")
_GRID = flags.DEFINE_integer("grid_images", 6, "Held-out photos per direction in the grid.")
_EVALUATE_ONLY = flags.DEFINE_boolean(
    "evaluate_only", False, "Measure the run already in --model_dir; train nothing."
)


def _train(model_dir):
    """Runs the training command for at most --minutes; returns (seconds, interrupted)."""
    command = [
        sys.executable, "-m", "tf_cyclegan.train", "--flagfile=flags/real_photos.cfg",
        f"--dataset={os.path.abspath(_DATA.value)}", f"--model_dir={model_dir}",
        f"--inception_weights={_WEIGHTS.value}", *_EXTRA.value,
    ]  # fmt: skip
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        process.wait(timeout=_MINUTES.value * 60)
        interrupted = False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # Saves the step reached, then exits.
        process.wait()
        interrupted = True
    if process.returncode not in (0, -signal.SIGINT, 130) and not interrupted:
        raise SystemExit(f"training failed with status {process.returncode}")
    return time.monotonic() - start, interrupted


def _classifier(train_a, train_b, steps=300):
    """Logistic regression on features, fitted by full-batch Adam: features -> P(domain B)."""
    import tensorflow as tf

    x = np.concatenate([train_a, train_b]).astype(np.float32)
    y = np.concatenate([np.zeros(len(train_a)), np.ones(len(train_b))]).astype(np.float32)
    mean, std = x.mean(0), x.std(0) + 1e-6
    w, b = tf.Variable(tf.zeros([x.shape[1], 1])), tf.Variable(0.0)
    adam = tf.keras.optimizers.Adam(0.01)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            logits = tf.matmul((x - mean) / std, w)[:, 0] + b
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, logits))
            loss += 1e-3 * tf.reduce_sum(w * w)
        adam.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
    return lambda f: (tf.matmul((f.astype(np.float32) - mean) / std, w)[:, 0] + b).numpy() > 0


def _grid(path, rows):
    """Writes rows of [source | translation] pairs, float [-1, 1] images, as one PNG."""
    from PIL import Image

    pairs = [np.concatenate([s, t], axis=1) for s, t in rows]
    grid = np.concatenate(pairs, axis=0)
    Image.fromarray(np.uint8(np.clip((grid + 1) * 127.5, 0, 255))).save(path)


def main(argv):
    del argv
    print(cpu_description(), flush=True)
    model_dir = _MODEL_DIR.value
    seconds, interrupted = (None, None) if _EVALUATE_ONLY.value else _train(model_dir)

    sys.path.insert(0, ROOT)  # Runs from a checkout too, as the training command does.
    from tf_cyclegan.data import sources
    from tf_cyclegan.evaluation import evaluate_lib, fid, inception
    from tf_cyclegan.networks import restore

    config, generators, checkpoint = restore.load_generators(model_dir)
    step = int(checkpoint.rsplit("-", 1)[-1])
    builder = sources.get_builder(config.data.dataset, config.data.data_dir)
    size = config.data.crop_size
    network = inception.load(_WEIGHTS.value)
    test = {s: evaluate_lib.split_images(builder, s, size, 3) for s in ("testA", "testB")}
    n = min(len(v) for v in test.values())
    test = {s: v[:n] for s, v in test.items()}
    train = {s: evaluate_lib.split_images(builder, s, size, 3) for s in ("trainA", "trainB")}
    feats = {s: inception.features(network, v) for s, v in {**test, **train}.items()}
    is_b = _classifier(feats["trainA"], feats["trainB"])
    accuracy = np.mean(np.concatenate([~is_b(feats["testA"]), is_b(feats["testB"])]))
    print(f"\n{checkpoint}: step {step}; classifier accuracy on real test photos {accuracy:.3f}")
    if seconds:
        ended = "budget reached" if interrupted else "schedule done"
        rate = step * config.data.batch_size / seconds
        print(f"{seconds / 60:.1f} min of training ({ended}): {rate:.2f} img/s with evaluations")
    print(f"{n} images on every side; standard FID Inception ({os.path.basename(network.source)})")
    print("| direction | FID | KID | untranslated FID | real-vs-real FID | in target domain |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = []
    for direction, source, target, train_target, wanted in (
        ("a2b", "testA", "testB", "trainB", True),
        ("b2a", "testB", "testA", "trainA", False),
    ):
        generator = generators[direction]
        fake = evaluate_lib.batched(lambda x, g=generator: g(x, training=False), test[source])
        fake_feats = inception.features(network, fake.numpy())
        floor_feats = feats[train_target][:n]
        share = np.mean(is_b(fake_feats) == wanted)
        kid_mean, _ = fid.kid(fake_feats, feats[target])
        print(
            f"| {direction} | {fid.fid(fake_feats, feats[target]):.1f} | {kid_mean:.4f} | "
            f"{fid.fid(feats[source], feats[target]):.1f} | "
            f"{fid.fid(floor_feats, feats[target]):.1f} | {share:.2f} |"
        )
        rows += list(zip(test[source][: _GRID.value].numpy(), fake[: _GRID.value].numpy()))
    path = os.path.join(model_dir, f"real_photos_grid_step_{step}.png")
    _grid(path, rows)
    print(f"Grid (held-out cats then dogs, each beside its translation): {path}")


if __name__ == "__main__":
    app.run(main)
