"""Where ``export --formats=web`` gets LiteRT.js: found where npm put it, else fetched once.

The page is written for the pinned versions below. They are looked for in ``--litertjs``
(when given: it must hold them), then ``./node_modules``, ``$LITERTJS_NODE_MODULES`` and this
package's cache (``~/.cache/tf_cyclegan/litertjs-<version>/node_modules``); when none holds
them, the two packages are fetched from the npm registry into the cache: each tarball must
match the sha512 the registry publishes for it, which must be the one pinned here (so a
changed registry entry is refused too). Archives are unpacked defensively (regular files
under ``package/`` only, no links, no absolute or parent paths) into a staging folder that is
renamed into place when complete. Offline, one line says how to install it by hand.
"""

import base64
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from tf_cyclegan.common import errors, reachability

VERSION = "2.5.3"
# npm package -> (version, the registry's dist.integrity for it).
PACKAGES = {
    "core": (
        VERSION,
        "sha512-PlGmbMOq9WitX7FO0jhbdJw9GthatsyuCQXjTt/wJZo0FLaw48q4tz8IwqgqCIkviYGr9OFDL1kCnN4nzWoyJQ==",
    ),
    "wasm-utils": (
        VERSION,
        "sha512-4fJiw6tBQnIs+0jH/OQ16nYOiSl8/+zZnn5h2ul8aTKHi05sVqZW580Tmk78pC2kT39A9OYBVdFawteZ/sI1kQ==",
    ),
}
ENV = "LITERTJS_NODE_MODULES"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
_MAX_TARBALL_BYTES = 64 << 20  # The core package is ~10 MB.
_RECIPE = (
    f"where there is network, run `npm install @litertjs/core@{VERSION}` and pass "
    f"--litertjs=<its node_modules folder> (or set {ENV})"
)


def holds(node_modules, required):
    """Whether ``node_modules`` holds every path of ``required`` (relative to @litertjs/)."""
    root = os.path.join(node_modules, "@litertjs")
    return all(os.path.isfile(os.path.join(root, p)) for p in required)


def cache_dir():
    """The node_modules folder this package fetches LiteRT.js into."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(home, "tf_cyclegan", f"litertjs-{VERSION}", "node_modules")


def locate(explicit, required, registry=None):
    """The node_modules folder holding LiteRT.js, fetching it into the cache if need be.

    Args:
        explicit: ``--litertjs``, or None to search.
        required: paths under ``node_modules/@litertjs`` the page needs.
        registry: the npm registry's URL (default ``$npm_config_registry`` or npmjs.org).

    Raises:
        MissingError: ``explicit`` lacks a file, or LiteRT.js is nowhere here and the
            registry cannot be reached (one line with the recipe).
        IntegrityError: a fetched tarball is not the published one.
    """
    if explicit:
        if not holds(explicit, required):
            missing = next(p for p in required if not holds(explicit, [p]))
            raise errors.MissingError(
                f"--formats=web needs LiteRT.js, and {explicit}/@litertjs/{missing} does not "
                f"exist; leave --litertjs out to use this package's copy, or {_RECIPE}"
            )
        return explicit
    for candidate in ("node_modules", os.environ.get(ENV), cache_dir()):
        if candidate and holds(candidate, required):
            return candidate
    fetch(cache_dir(), registry)
    if not holds(cache_dir(), required):
        raise errors.MissingError(f"the fetched LiteRT.js lacks files the page needs; {_RECIPE}")
    return cache_dir()


class IntegrityError(errors.MissingError):
    """A downloaded package is not the one the registry publishes (or not the pinned one)."""


def _get(url, limit):
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read(limit + 1)
    except (urllib.error.URLError, OSError) as e:
        raise errors.MissingError(f"could not download {url} ({e}); {_RECIPE}") from None
    if len(data) > limit:
        raise IntegrityError(f"{url} is larger than {limit} bytes; not the LiteRT.js package")
    return data


def fetch(target, registry=None):
    """Downloads the pinned packages into ``target`` (a node_modules folder), atomically."""
    registry = (registry or os.environ.get("npm_config_registry") or DEFAULT_REGISTRY).rstrip("/")
    host = urllib.parse.urlparse(registry)
    port = host.port or (443 if host.scheme == "https" else 80)
    if not reachability.host_reachable(host.hostname, port):
        raise errors.MissingError(
            f"--formats=web needs LiteRT.js, which is not installed here, and the npm "
            f"registry {registry} is unreachable; {_RECIPE}"
        )
    print(f"Fetching LiteRT.js {VERSION} from {registry} into {target} (once)", flush=True)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".litertjs-", dir=os.path.dirname(target))
    try:
        for name, (version, pinned) in PACKAGES.items():
            meta = json.loads(_get(f"{registry}/@litertjs%2f{name}/{version}", 1 << 20))
            dist = meta.get("dist", {}) if isinstance(meta, dict) else {}
            if dist.get("integrity") != pinned:
                raise IntegrityError(
                    f"the registry publishes @litertjs/{name}@{version} with integrity "
                    f"{dist.get('integrity')!r}, not the pinned {pinned[:20]}...; {_RECIPE}"
                )
            tarball = _get(dist["tarball"], _MAX_TARBALL_BYTES)
            digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
            if digest != pinned:
                raise IntegrityError(
                    f"{dist['tarball']} does not match its published sha512; nothing was "
                    f"installed; {_RECIPE}"
                )
            _unpack(tarball, os.path.join(staging, "@litertjs", name))
        if os.path.isdir(target):  # A concurrent fetch finished first: keep it.
            return
        os.rename(staging, target)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging)


def _unpack(tarball, destination):
    """Extracts the regular files under ``package/`` of an npm tarball into ``destination``."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            parts = member.name.replace("\\", "/").split("/")
            if not member.isfile() or parts[0] != "package" or len(parts) < 2:
                continue
            if any(p in ("", ".", "..") for p in parts[1:]) or os.path.isabs(member.name):
                raise IntegrityError(f"the LiteRT.js tarball holds an unsafe path {member.name!r}")
            path = os.path.join(destination, *parts[1:])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with archive.extractfile(member) as source, open(path, "wb") as out:
                shutil.copyfileobj(source, out)
