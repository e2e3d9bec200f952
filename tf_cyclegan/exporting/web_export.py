"""``export --formats=web``: a static page that runs the exported ``.tflite`` in a browser.

The page (``web_page/``) uses LiteRT.js (npm ``@litertjs/core``): its JavaScript and the
WebAssembly runtimes it chooses between (with and without relaxed SIMD) are copied into
``web/``, so the page works offline from any static server, on a phone too. Export copies
them from the npm package, found or fetched once (``litertjs``).

Layout of ``web/``: ``index.html``, ``app.js``, ``model.json`` (each direction's file, size
and channels), the models, ``litert/core/index.js``, ``litert/wasm-utils/index.js`` and
``litert/wasm/``.
"""

import json
import os
import shutil

from tf_cyclegan.exporting import litertjs

WEB_DIR = "web"
LITERTJS_VERSION = litertjs.VERSION  # What the page was written and tested against.
_PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web_page")
# npm package folder -> file -> where the page loads it from.
_RUNTIME = (
    ("core", "dist/index.js", "litert/core/index.js"),
    ("wasm-utils", "dist/index.js", "litert/wasm-utils/index.js"),
    *(
        (
            "core",
            f"wasm/litert_wasm_{kind}internal.{ext}",
            f"litert/wasm/litert_wasm_{kind}internal.{ext}",
        )
        for kind in ("", "compat_")  # With relaxed SIMD, and without (older browsers).
        for ext in ("js", "wasm")
    ),
)


def required_files():
    """The files of the npm packages the page loads, relative to ``node_modules/@litertjs``."""
    return [f"{package}/{path}" for package, path, _ in _RUNTIME]


def write(staging, node_modules, models):
    """Writes ``staging/web``.

    Args:
        staging: the export's folder, holding the ``.tflite`` files named in ``models``.
        node_modules: the folder holding ``@litertjs/core`` and ``@litertjs/wasm-utils``.
        models: {direction: {"file": name of a fixed-size .tflite in staging, "size": its
            side in pixels, "channels": [input channels, output channels]}}.

    Returns:
        {"path": "web", "size_bytes": bytes written, "models": models}.
    """
    root = os.path.join(node_modules, "@litertjs")
    web = os.path.join(staging, WEB_DIR)
    shutil.copytree(_PAGE, web)
    for package, path, target in _RUNTIME:
        os.makedirs(os.path.dirname(os.path.join(web, target)), exist_ok=True)
        shutil.copyfile(os.path.join(root, package, path), os.path.join(web, target))
    for entry in models.values():
        shutil.copyfile(os.path.join(staging, entry["file"]), os.path.join(web, entry["file"]))
    with open(os.path.join(web, "model.json"), "w") as f:
        json.dump({"litertjs": LITERTJS_VERSION, "models": models}, f, indent=1)
    size = sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(web) for n in names)
    return {"path": WEB_DIR, "size_bytes": size, "models": models}
