"""export --formats=web: the page translates a photo in a real browser (headless Chromium)
with LiteRT.js, matching LiteRT in Python: GAN Compression's real horse -> zebra model
(imported from ../shared/data) on a real test horse where they are at hand, else the tests'
tiny run on noise. Skipped where Chromium or the npm package is not installed (CI installs
both)."""

import http.server
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import unittest

import numpy as np
import tensorflow as tf
from PIL import Image

import helpers
from tf_cyclegan.common import conventions, errors
from tf_cyclegan.exporting import export_lib, web_export
from tf_cyclegan.pretrained import import_torch_lib
from tf_cyclegan.serving import litert

_CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
# Where `npm install @litertjs/core` put it (CI: LITERTJS_NODE_MODULES).
_NODE_MODULES = os.environ.get("LITERTJS_NODE_MODULES", os.path.join(helpers.ROOT, "node_modules"))
_HAS_LITERTJS = os.path.isdir(os.path.join(_NODE_MODULES, "@litertjs", "core"))
_SHARED = os.path.join(os.path.dirname(helpers.ROOT), "shared", "data")
_PRETRAINED = os.path.join(_SHARED, "gan_compression_horse2zebra", "latest_net_G.pth")
_HORSES = os.path.join(_SHARED, "horse2zebra", "testA")


def _model_and_photo(work):
    """(a run directory, a uint8 photo for it): the real model and horse, or the tiny run."""
    if os.path.isfile(_PRETRAINED) and os.path.isdir(_HORSES):
        model_dir = os.path.join(work, "pretrained")
        config = import_torch_lib.ImportConfig(model_dir, {"a2b": _PRETRAINED})
        import_torch_lib.import_checkpoints(config)
        with Image.open(os.path.join(_HORSES, sorted(os.listdir(_HORSES))[0])) as horse:
            return model_dir, np.asarray(horse.convert("RGB").resize((256, 256)))
    return helpers.trained_run(), None


def _serve(folder, results):
    """An HTTP server of ``folder`` on 127.0.0.1 that puts each POSTed body into ``results``."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=folder, **kwargs)

        def do_POST(self):
            results.put(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class WebExportTest(tf.test.TestCase):
    def test_missing_litertjs_is_one_line_saying_how_to_install_it(self):
        config = export_lib.ExportConfig(
            helpers.trained_run(),
            os.path.join(self.get_temp_dir(), "exported"),
            formats=("tflite", "web"),
            litertjs=os.path.join(self.get_temp_dir(), "node_modules"),
        )
        with self.assertRaisesRegex(errors.MissingError, "npm install @litertjs/core@"):
            export_lib.export(config)
        self.assertFalse(os.path.exists(config.export_dir))

    @unittest.skipUnless(_CHROMIUM, "Chromium is not installed (apt-get install chromium)")
    @unittest.skipUnless(_HAS_LITERTJS, f"no @litertjs/core in {_NODE_MODULES} (npm install)")
    def test_page_translates_a_photo_in_chromium_as_litert_does_in_python(self):
        work = tempfile.mkdtemp()
        model_dir, photo = _model_and_photo(work)
        export_dir = os.path.join(work, "exported")
        export_lib.export(
            export_lib.ExportConfig(
                model_dir,
                export_dir,
                formats=("web",),  # Implies the float16 .tflite the page runs.
                quantizations=("float16",),
                dynamic_tflite=False,
                parity_images=1,
                litertjs=_NODE_MODULES,
            )
        )
        web = os.path.join(export_dir, web_export.WEB_DIR)
        size = json.load(open(os.path.join(web, "model.json")))["models"]["a2b"]["size"]
        if photo is None:
            photo = np.random.default_rng(0).integers(0, 256, (size, size, 3), np.uint8)
        Image.fromarray(photo).save(os.path.join(web, "photo.png"))
        results = queue.Queue()
        server = _serve(web, results)
        url = f"http://127.0.0.1:{server.server_port}/index.html?selftest=photo.png&direction=a2b"
        browser = subprocess.Popen(
            [
                _CHROMIUM,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tempfile.mkdtemp()}",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            report = json.loads(results.get(timeout=180))
        finally:
            browser.kill()
            browser.wait()
            server.shutdown()
        self.assertNotIn("error", report)
        page = np.asarray(report["pixels"], np.uint8).reshape(size, size, 3)
        model = litert.TfliteModel(os.path.join(web, "a2b_float16.tflite"))
        python = conventions.to_uint8(model.run(conventions.to_float(photo[np.newaxis])))[0]
        mse = np.mean((page.astype(np.float64) - np.asarray(python, np.float64)) ** 2)
        self.assertGreaterEqual(10 * np.log10(255.0**2 / max(mse, 1e-12)), 40)
        self.assertGreater(report["milliseconds"], 0)


if __name__ == "__main__":
    tf.test.main()
