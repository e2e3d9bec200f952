r"""A real pretrained model through the deployment path: GAN Compression's published FID, per form.

  python benchmarks/pretrained_deploy.py --inception_weights=default_1.pt \
      [--pth=../shared/data/gan_compression_horse2zebra/latest_net_G.pth] \
      [--data=../shared/data/horse2zebra] [--work_dir=/tmp/pretrained_deploy]

Imports the ``.pth`` (``import_torch``), exports it (SavedModel and the float32, float16,
dynamic-range int8 and full int8 ``.tflite``), then measures each form by the protocol of
GAN Compression's table (``metric/`` and ``get_real_stat.py`` of their code): the 120 test
horses read with PIL, bicubic-resized to 256x256, translated, converted to uint8 as their
``tensor2im`` does (``(y + 1) / 2 * 255``, clipped, truncated), FID with the standard network
against all 1,474 real zebras (trainB + testB, also passed through ``tensor2im``, as their
statistics are) and against the 140 test zebras (the usual protocol). Beside each: size, MACs
and LiteRT latency per 256x256 image (XNNPACK, 1 and 2 threads), and an untrained ResNet-9
(CycleGAN's generator: size and speed only) for scale. Then how much each step where our
pipeline could differ from theirs moves FID: JPEG decoding (TensorFlow's decoder), rounding
instead of truncating, the real images without ``tensor2im``.
"""

import json
import os
import sys

import numpy as np
from absl import app, flags, logging
from common import cpu_description

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
PUBLISHED = {"fid": 65.12, "params": 356_867, "gmacs": 2.55}  # GAN Compression's README.

_PTH = flags.DEFINE_string(
    "pth", os.path.join(SHARED, "gan_compression_horse2zebra", "latest_net_G.pth"), "The model."
)
_DATA = flags.DEFINE_string("data", os.path.join(SHARED, "horse2zebra"), "A CycleGAN folder.")
_WEIGHTS = flags.DEFINE_string(
    "inception_weights", None, "The standard FID network.", required=True
)
_WORK = flags.DEFINE_string("work_dir", "/tmp/pretrained_deploy", "Run and export go here.")
_THREADS = flags.DEFINE_list("threads", ["1", "2"], "LiteRT thread counts to time.")
_FIGURE = flags.DEFINE_string(
    "figure", None, "Write 8 test horses beside the float16 .tflite's zebras (JPEG) here."
)


def _read(folder, decoder="pil"):
    """uint8 [n, 256, 256, 3]: every image of ``folder``, RGB, bicubic-resized to 256."""
    from PIL import Image

    images = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if decoder == "pil":
            with Image.open(path) as image:
                image = image.convert("RGB")
        else:
            import tensorflow as tf

            pixels = tf.io.decode_image(tf.io.read_file(path), channels=3).numpy()
            image = Image.fromarray(pixels)
        if image.size != (256, 256):
            image = image.resize((256, 256), Image.BICUBIC)
        images.append(np.asarray(image))
    return np.stack(images)


def tensor2im(y):
    """Their uint8 conversion of float32 images in [-1, 1]: scaled, clipped, truncated."""
    return np.clip((y.astype(np.float32) + 1) / 2.0 * 255.0, 0, 255).astype(np.uint8)


def rounded(y):
    return np.clip(np.round((y + 1) * 127.5), 0, 255).astype(np.uint8)


def _as_input(pixels):
    """uint8 -> their normalised input: ToTensor then Normalize(0.5, 0.5), in float32."""
    return (pixels.astype(np.float32) / 255.0 - 0.5) / 0.5


class Scorer:
    """FID of uint8 images against the real zebras, both reference sets."""

    def __init__(self, network, references):
        from tf_cyclegan.evaluation import fid, inception

        self._fid, self._inception, self.network = fid, inception, network
        self.references = {k: self.features(v) for k, v in references.items()}

    def features(self, pixels):
        return self._inception.features(self.network, pixels.astype(np.float32) / 127.5 - 1)

    def __call__(self, pixels):
        features = self.features(pixels)
        return {k: self._fid.fid(features, ref) for k, ref in self.references.items()}


def _forms(run_dir, export_dir, horses):
    """{form: float32 translations of ``horses`` in [-1, 1]} for Keras and every export."""
    import tensorflow as tf

    from tf_cyclegan.exporting import tflite_export
    from tf_cyclegan.networks import restore

    x = _as_input(horses)
    _, generators, _ = restore.load_generators(run_dir)
    outputs = {"keras (imported run)": generators["a2b"].predict(x, batch_size=8, verbose=0)}
    saved = tf.saved_model.load(os.path.join(export_dir, "saved_model")).signatures["a2b_float"]
    outputs["saved_model"] = np.concatenate(
        [saved(images=tf.constant(x[i : i + 8]))["images"].numpy() for i in range(0, len(x), 8)]
    )
    for variant in ("float32", "float16", "dynamic_range", "int8"):
        path = os.path.join(export_dir, f"a2b_{variant}.tflite")
        outputs[f"tflite {variant}"] = tflite_export.run(path, x)
    return outputs


def _speed(path, threads):
    from tf_cyclegan.serving import litert

    image = np.random.default_rng(0).uniform(-1, 1, (256, 256, 3)).astype(np.float32)
    return {t: litert.TfliteModel(path, int(t)).latency_ms(image, repeats=10) for t in threads}


def _prepare_and_export(work):
    """Imports the .pth and exports it, unless done before in ``work``."""
    from tf_cyclegan.exporting import export_lib
    from tf_cyclegan.pretrained import import_torch_lib

    run_dir, export_dir = os.path.join(work, "run"), os.path.join(work, "export")
    if not os.path.isdir(run_dir):
        import_torch_lib.import_checkpoints(
            import_torch_lib.ImportConfig(run_dir, {"a2b": _PTH.value})
        )
    if not os.path.isdir(export_dir):
        quantizations = ("float32", "float16", "dynamic_range", "int8")
        export_lib.export(export_lib.ExportConfig(run_dir, export_dir, quantizations=quantizations))
    return run_dir, export_dir


def _resnet9_scale(work):
    """Size and latency of CycleGAN's ResNet-9 as float16 .tflite (random weights)."""
    import tensorflow as tf

    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.exporting import tflite_export
    from tf_cyclegan.networks import flops, models

    net = models.build_generator(config_lib.ModelConfig(pytorch_compatible=True), seed=0)
    path = os.path.join(work, "resnet9_float16.tflite")
    if not os.path.exists(path):
        spec = tf.TensorSpec([1, 256, 256, 3], tf.float32)
        fn = tf.function(lambda images: net(images, training=False)).get_concrete_function(spec)
        holder = tf.Module()  # Tracks the variables themselves (a Keras 3 model's are not).
        holder.weights = [v.value for v in net.variables]
        with open(path, "wb") as f:
            f.write(tflite_export.convert([fn], holder, "float16"))
    return path, flops.network_macs(net, 256) / 1e9, net.count_params()


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    print(cpu_description(), flush=True)
    sys.path.insert(0, ROOT)  # Runs from a checkout too.
    from tf_cyclegan.evaluation import inception
    from tf_cyclegan.networks import flops, restore

    os.makedirs(_WORK.value, exist_ok=True)
    run_dir, export_dir = _prepare_and_export(_WORK.value)
    horses = _read(os.path.join(_DATA.value, "testA"))
    zebras = {s: _read(os.path.join(_DATA.value, s)) for s in ("trainB", "testB")}
    all_zebras = np.concatenate([zebras["trainB"], zebras["testB"]])
    # Their statistics pass the real images through ToTensor, Normalize and tensor2im too.
    references = {
        f"all {len(all_zebras)} zebras": tensor2im(_as_input(all_zebras)),
        f"{len(zebras['testB'])} test zebras": tensor2im(_as_input(zebras["testB"])),
    }
    scorer = Scorer(inception.load(_WEIGHTS.value), references)
    print(f"{len(horses)} test horses; standard FID network ({scorer.network.source})")

    with open(os.path.join(export_dir, "export_report.json")) as f:
        report = json.load(f)
    _, generators, _ = restore.load_generators(run_dir)
    macs = flops.network_macs(generators["a2b"], 256) / 1e9
    names = list(references)
    print(f"\nPublished (GAN Compression's README): FID {PUBLISHED['fid']} against all zebras")
    print(
        f"| form | FID vs {names[0]} | FID vs {names[1]} | MB | ms @"
        + " | ms @".join(_THREADS.value)
        + " | PSNR vs Keras dB |"
    )
    print("| --- |" + " --- |" * (4 + len(_THREADS.value)))
    results, outputs = {}, _forms(run_dir, export_dir, horses)
    for form, y in outputs.items():
        fids = scorer(tensor2im(y))
        results[form] = fids
        artifact = report["artifacts"].get(
            "saved_model" if form == "saved_model" else f"a2b_{form.split()[-1]}", {}
        )
        path = os.path.join(export_dir, artifact.get("path", ""))
        speed = _speed(path, _THREADS.value) if path.endswith(".tflite") else {}
        results[form].update(speed=speed, psnr=artifact.get("psnr_db"))
        size = artifact.get("size_bytes")
        cells = [f"{fids[n]:.2f}" for n in names]
        cells.append(f"{size / 1e6:.2f}" if size else "-")
        cells += [f"{speed[t]:.0f}" if t in speed else "-" for t in _THREADS.value]
        cells.append(f"{artifact['psnr_db']}" if "psnr_db" in artifact else "-")
        print(f"| {form} | " + " | ".join(cells) + " |")
    path, resnet_macs, resnet_params = _resnet9_scale(_WORK.value)
    speed = _speed(path, _THREADS.value)
    print(
        f"| ResNet-9 (CycleGAN's generator, random weights) float16 | - | - | "
        f"{os.path.getsize(path) / 1e6:.2f} | "
        + " | ".join(f"{speed[t]:.0f}" for t in _THREADS.value)
        + " | - |"
    )
    print(
        f"\nMACs at 256x256: {macs:.2f} G (convolutions, transposed ones per input pixel; "
        f"GAN Compression's count, transposed per output pixel: {PUBLISHED['gmacs']} G) against "
        f"ResNet-9's {resnet_macs:.1f} G; parameters {generators['a2b'].count_params():,} "
        f"(published {PUBLISHED['params']:,}) against {resnet_params:,}"
    )
    base = results["saved_model"][names[0]]
    flagged = [f for f, r in results.items() if r[names[0]] > base + 5]
    print(f"Forms worse than the SavedModel by more than 5 FID: {flagged or 'none'}")
    if _FIGURE.value:
        import photo_report

        pairs = (_as_input(horses), outputs["tflite float16"])
        photo_report.figure(_FIGURE.value, pairs, 8)
    _pipeline_effects(scorer, outputs["keras (imported run)"], horses, zebras, run_dir, names)
    with open(os.path.join(_WORK.value, "pretrained_deploy.json"), "w") as f:
        json.dump(results, f, indent=1)


def _pipeline_effects(scorer, translated, horses, zebras, run_dir, names):
    """How far each step where pipelines differ moves FID against all zebras."""
    from tf_cyclegan.networks import restore

    print("\nWhere pipelines differ, FID (Keras generator) against " + names[0] + ":")
    base = scorer(tensor2im(translated))[names[0]]
    print(f"- their protocol: {base:.2f}")
    print(
        f"- translations rounded instead of truncated: {scorer(rounded(translated))[names[0]]:.2f}"
    )
    exact = Scorer(scorer.network, {"exact": np.concatenate([zebras["trainB"], zebras["testB"]])})
    print(f"- real zebras as decoded (no tensor2im): {exact(tensor2im(translated))['exact']:.2f}")
    tf_horses = _read(os.path.join(_DATA.value, "testA"), decoder="tf")
    changed = float(np.mean(tf_horses != horses))
    _, generators, _ = restore.load_generators(run_dir)
    y = generators["a2b"].predict(_as_input(tf_horses), batch_size=8, verbose=0)
    print(
        f"- horses decoded by TensorFlow ({changed:.2%} of pixel values differ from PIL's): "
        f"{scorer(tensor2im(y))[names[0]]:.2f}"
    )


if __name__ == "__main__":
    app.run(main)
