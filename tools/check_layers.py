r"""Checks tf_cyclegan's imports against its declared layers (``layers.bzl``'s LAYERS).

  python tools/check_layers.py                      # the whole package; exit 1 on a violation
  python tools/check_layers.py --package=serving tf_cyclegan/serving/*.py   # one package

Rules: a package imports only the packages LAYERS lists for it (so there are no cycles and
no upward arrows); the top level of ``tf_cyclegan/`` holds only the commands, which no
library imports; no ``tf_cyclegan`` import inside a function. Bazel runs it on every package
library at build time (``layers.bzl``), the tests on the whole tree. Standard library only.
"""

import argparse
import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "tf_cyclegan"


def load_layers(path=os.path.join(ROOT, "layers.bzl")):
    """LAYERS from ``layers.bzl``: {package: [packages it may import]} (a Python literal)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "LAYERS":
            return ast.literal_eval(node.value)
    raise ValueError(f"{path} defines no LAYERS")


def _owner(path):
    """The package a file belongs to ("common", ...), or None for a top-level command."""
    parts = os.path.relpath(os.path.abspath(path), ROOT).split(os.sep)
    return parts[1] if len(parts) > 2 else None


def _imports(path):
    """[(line, imported package or None for a command, inside a function)] of a file."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    in_function = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(fn)
    }
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = (
                [node.module]
                if "." in node.module
                else [f"{node.module}.{a.name}" for a in node.names]
            )
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == PACKAGE and len(parts) > 1:
                target = parts[1] if os.path.isdir(os.path.join(ROOT, PACKAGE, parts[1])) else None
                found.append((node.lineno, target, id(node) in in_function))
    return found


def violations(files, layers):
    """One line per import that breaks the rules, for ``files`` (paths under ROOT)."""
    problems = []
    for path in files:
        owner = _owner(path)
        if owner is not None and owner not in layers:
            problems.append(f"{path}: package {owner!r} is not declared in layers.bzl")
            continue
        for line, target, inside in _imports(path):
            where = f"{os.path.relpath(path, ROOT)}:{line}"
            if inside:
                problems.append(f"{where}: imports {PACKAGE} inside a function")
            if owner is None or target == owner:
                continue  # Commands may import any package; a package, itself.
            if target is None:
                problems.append(f"{where}: library {owner!r} imports a command")
            elif target not in layers[owner]:
                problems.append(
                    f"{where}: {owner!r} imports {target!r}, which layers.bzl does not put "
                    f"below it (allowed: {', '.join(layers[owner]) or 'none'})"
                )
    return problems


def all_files():
    """Every Python file of the package."""
    top = os.path.join(ROOT, PACKAGE)
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs if f.endswith(".py"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", help="check only these files, as this package")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args(argv)
    layers = load_layers()
    files = [os.path.abspath(f) for f in args.files] or all_files()
    if args.package:
        strays = [f for f in files if _owner(f) != args.package]
        if strays:
            print(f"error: {strays[0]} is not in package {args.package}", file=sys.stderr)
            return 2
    problems = violations(files, layers)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
