"""LiteRT.js for the web page: found where npm put it, else fetched once, checksums checked.

The registry is a local HTTP server (127.0.0.1) serving small stand-in tarballs; the pinned
checksums are patched to theirs. Nothing is downloaded from outside.
"""

import base64
import hashlib
import http.server
import io
import json
import os
import tarfile
import tempfile
import threading
import time
from unittest import mock

import tensorflow as tf

import helpers
from tf_cyclegan.common import errors
from tf_cyclegan.exporting import export_lib, litertjs, web_export

_REQUIRED = web_export.required_files()


def _tarball(package, extra=()):
    """An npm tarball holding every file the page needs from ``package`` (+ ``extra``)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        names = [p.split("/", 1)[1] for p in _REQUIRED if p.startswith(package + "/")]
        for name in [f"package/{n}" for n in names] + list(extra):
            data = f"// {name}\n".encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _integrity(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class _Registry:
    """A local npm registry of the two packages: ``tarballs`` is what their URLs return,
    ``published`` the integrity the metadata claims (the original tarballs' unless changed)."""

    def __init__(self, tarballs):
        self.tarballs, self.requests = tarballs, []
        self.published = {name: _integrity(data) for name, data in tarballs.items()}
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                registry.requests.append(self.path)
                name = self.path.split("%2f")[-1].split("/")[0]
                if self.path.endswith(".tgz"):
                    body = registry.tarballs[self.path.rsplit("/", 1)[-1][:-4]]
                else:
                    url = f"http://127.0.0.1:{self.server.server_port}/t/{name}.tgz"
                    dist = {"tarball": url, "integrity": registry.published[name]}
                    body = json.dumps({"dist": dist}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FetchTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.tarballs = {p: _tarball(p) for p in litertjs.PACKAGES}
        pinned = {p: (litertjs.VERSION, _integrity(t)) for p, t in self.tarballs.items()}
        self.enterContext(mock.patch.dict(litertjs.PACKAGES, pinned))
        cache_home = tempfile.mkdtemp(dir=self.get_temp_dir())
        self.enterContext(mock.patch.dict(os.environ, {"XDG_CACHE_HOME": cache_home}))
        os.environ.pop(litertjs.ENV, None)
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(cache_home)  # No ./node_modules here.
        self.registry = _Registry(dict(self.tarballs))
        self.addCleanup(self.registry.close)

    def test_fetched_once_into_the_cache_then_found_there(self):
        found = litertjs.locate(None, _REQUIRED, self.registry.url)
        self.assertEqual(found, litertjs.cache_dir())
        self.assertTrue(litertjs.holds(found, _REQUIRED))
        count = len(self.registry.requests)
        self.assertEqual(litertjs.locate(None, _REQUIRED, self.registry.url), found)
        self.assertLen(self.registry.requests, count)  # The second export downloads nothing.

    def test_a_tampered_tarball_installs_nothing(self):
        self.registry.tarballs["core"] = _tarball("core", extra=["package/evil.js"])
        with self.assertRaisesRegex(litertjs.IntegrityError, "does not match its published"):
            litertjs.locate(None, _REQUIRED, self.registry.url)
        self.assertFalse(os.path.exists(litertjs.cache_dir()))

    def test_a_registry_entry_other_than_the_pinned_one_is_refused(self):
        litertjs.PACKAGES["wasm-utils"] = (litertjs.VERSION, "sha512-somethingelse")
        with self.assertRaisesRegex(litertjs.IntegrityError, "not the pinned"):
            litertjs.locate(None, _REQUIRED, self.registry.url)

    def test_paths_leaving_the_package_are_refused(self):
        evil = _tarball("core", extra=["package/../../escape.js"])
        self.registry.tarballs["core"] = evil
        self.registry.published["core"] = _integrity(evil)
        litertjs.PACKAGES["core"] = (litertjs.VERSION, _integrity(evil))
        with self.assertRaisesRegex(litertjs.IntegrityError, "unsafe path"):
            litertjs.locate(None, _REQUIRED, self.registry.url)
        self.assertFalse(os.path.exists(litertjs.cache_dir()))

    def test_offline_is_one_line_with_the_recipe_within_seconds(self):
        self.registry.close()  # Nothing listens on that port any more.
        start = time.monotonic()
        with self.assertRaisesRegex(errors.MissingError, "unreachable; .*npm install @litertjs"):
            litertjs.locate(None, _REQUIRED, self.registry.url)
        self.assertLess(time.monotonic() - start, 10)


class WebImpliesTfliteTest(tf.test.TestCase):
    def test_formats_web_alone_writes_the_float16_tflite_and_the_page(self):
        node_modules = tempfile.mkdtemp(dir=self.get_temp_dir())
        for path in _REQUIRED:  # Stand-ins: the page is not run here (web_test runs it).
            target = os.path.join(node_modules, "@litertjs", path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "w").close()
        export_dir = os.path.join(tempfile.mkdtemp(dir=self.get_temp_dir()), "exported")
        config = export_lib.ExportConfig(
            helpers.trained_run(),
            export_dir,
            formats=("web",),
            quantizations=("dynamic_range",),
            dynamic_tflite=False,
            parity_images=1,
            litertjs=node_modules,
        )
        report = export_lib.export(config)
        self.assertIn("a2b_float16", report["artifacts"])
        models = json.load(open(os.path.join(export_dir, web_export.WEB_DIR, "model.json")))
        self.assertEqual(models["models"]["a2b"]["file"], "a2b_float16.tflite")


if __name__ == "__main__":
    tf.test.main()
