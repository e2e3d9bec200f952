"""Every command the documentation shows exists, with flags it has and values it takes.

Each ``python -m tf_cyclegan.<command> ...`` in the README, ``export/README.md`` and
``docs/`` (code blocks, with their ``\\`` continuations, and inline code) is checked against
the command's own flags, read from the command in a process of its own; every
``--flagfile=`` a command names exists, and its flags are that command's too. A renamed or
removed flag fails here before it fails a reader. Every link, every file of the repository
the docs name (flagfiles, benchmarks, tools, tests) and every docs page is checked to exist,
each page is linked from the README, and each command's ``--help`` names its page.
"""

import ast
import functools
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import tensorflow as tf

import helpers

DOCS = [
    os.path.join(helpers.ROOT, "README.md"),
    os.path.join(helpers.ROOT, "export", "README.md"),
    *sorted(glob.glob(os.path.join(helpers.ROOT, "docs", "**", "*.md"), recursive=True)),
]
# absl.app defines these when a command starts, not when its module is imported.
_APP_FLAGS = {"help", "helpshort", "helpfull", "helpxml", "only_check_args"}
_COMMAND = re.compile(r"python -m tf_cyclegan\.(\w+)(.*)")
# Prints {flag: [type, enum values or null]} of the command module named on argv.
_DUMP = """
import importlib, json, sys
from absl import flags
importlib.import_module("tf_cyclegan." + sys.argv[1])
out = {}
for name, flag in flags.FLAGS._flags().items():
    values = getattr(flag.parser, "enum_values", None)
    out[name] = [flag.flag_type(), list(values) if values else None]
print(json.dumps(out))
"""


def _commands(text):
    """[(command, [argument, ...])] of every documented command line in ``text``."""
    found = []
    joined = re.sub(r"\\\n\s*", " ", text)  # A code block's continued lines, as one.
    for line in joined.splitlines():
        for span in re.findall(r"`([^`]*python -m tf_cyclegan[^`]*)`", line) or [line]:
            for match in _COMMAND.finditer(span):
                rest = re.split(r"\s(?:&&|\|\||\||;|#)\s?", match.group(2))[0]
                try:
                    args = shlex.split(rest)
                except ValueError:
                    args = rest.split()
                found.append((match.group(1), args))
    return found


@functools.cache
def _flags(command):
    """{flag name: (type, enum values)} of ``python -m tf_cyclegan.<command>``."""
    result = subprocess.run(
        [sys.executable, "-c", _DUMP, command],
        capture_output=True,
        text=True,
        cwd=helpers.ROOT,
        env=helpers.subprocess_env(),
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _problem(command, argument, flags):
    """Why ``argument`` (one token) does not fit ``command``'s ``flags``, or None."""
    if not argument.startswith("--"):
        return None  # A positional argument (fid's folders) or a placeholder.
    name, _, value = argument[2:].partition("=")
    if name == "flagfile":  # absl's, for every command.
        if not os.path.isfile(os.path.join(helpers.ROOT, value)):
            return f"--flagfile={value} does not exist in the repository"
        return None
    if name in _APP_FLAGS:
        return None
    if name not in flags and name.startswith("no") and name[2:] in flags:
        name, value = name[2:], "false"
    if name not in flags:
        return f"--{name} is not a flag of {command}"
    kind, choices = flags[name]
    if not value or "<" in value or "$" in value:
        return None  # A boolean switch, or a placeholder the reader fills in.
    if choices and kind != "multi_enum" and value not in choices:
        return f"--{name}={value}: {command} takes one of {choices}"
    try:
        {"int": int, "float": float}.get(kind, str)(value)
    except ValueError:
        return f"--{name}={value} is not a valid {kind}"
    if kind == "bool" and value.lower() not in ("true", "false", "1", "0"):
        return f"--{name}={value} is not a boolean"
    return None


def _flagfile_lines(path):
    with open(os.path.join(helpers.ROOT, path)) as f:
        return [line.strip() for line in f if line.strip().startswith("--")]


# Repository files the docs name in prose or code: they must exist.
_PATH = re.compile(
    r"\b((?:flags|benchmarks|tools|tests|export|docs)/[\w./-]+\.(?:cfg|py|md|jpg))\b"
)
_LINK = re.compile(r"\]\(((?:https?:|[\w.#-]*[/.#])[\w./#:%-]*)\)")  # Not code's ...](x=1).


def _anchors(path):
    """GitHub's anchors of ``path``'s headings."""
    with open(path) as f:
        headings = [line.lstrip("#").strip() for line in f if line.startswith("#")]
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def _link_problem(doc, target):
    """Why the relative link ``target`` in ``doc`` leads nowhere, or None."""
    if re.match(r"\w+:", target):
        return None  # https:, mailto:
    path, _, anchor = target.partition("#")
    full = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
    if not os.path.exists(full):
        return f"{target} does not exist"
    if anchor and full.endswith(".md") and anchor not in _anchors(full):
        return f"{target}: no heading makes #{anchor}"
    return None


class DocumentedFilesTest(tf.test.TestCase):
    def test_every_link_and_every_named_file_exists(self):
        problems = []
        for doc in DOCS:
            text = open(doc).read()
            where = os.path.relpath(doc, helpers.ROOT)
            for target in _LINK.findall(text):
                problem = _link_problem(doc, target)
                if problem:
                    problems.append(f"{where}: {problem}")
            for path in _PATH.findall(text):
                if not glob.glob(os.path.join(helpers.ROOT, path)):
                    problems.append(f"{where}: {path} does not exist")
        self.assertEmpty(sorted(set(problems)))

    def test_a_broken_link_is_caught(self):
        readme = DOCS[0]
        self.assertEqual(_link_problem(readme, "docs/nowhere.md"), "docs/nowhere.md does not exist")
        problem = _link_problem(readme, "docs/training.md#no-such-heading")
        self.assertEqual(
            problem, "docs/training.md#no-such-heading: no heading makes #no-such-heading"
        )

    def test_the_readme_links_every_docs_page(self):
        readme = open(DOCS[0]).read()
        pages = glob.glob(os.path.join(helpers.ROOT, "docs", "*.md"))
        self.assertNotEmpty(pages)
        for page in pages:
            self.assertIn(f"](docs/{os.path.basename(page)}", readme)

    def test_each_commands_help_names_its_docs_page(self):
        commands = glob.glob(os.path.join(helpers.ROOT, "tf_cyclegan", "*.py"))
        commands = [c for c in commands if not c.endswith("__init__.py")]
        self.assertGreater(len(commands), 5)
        for path in commands:
            with open(path) as f:
                doc = ast.get_docstring(ast.parse(f.read())) or ""
            found = re.search(r"Documentation: (docs/\w+\.md)", doc)
            self.assertIsNotNone(found, path)
            self.assertTrue(os.path.isfile(os.path.join(helpers.ROOT, found.group(1))), path)
        # absl prints the module docstring for --help.
        result = helpers.run_python("-m", "tf_cyclegan.prepare", "--help")
        self.assertIn("Documentation: docs/data.md", result.stdout)


class DocumentedCommandsTest(tf.test.TestCase):
    def test_the_docs_show_commands(self):
        commands = [c for path in DOCS for c in _commands(open(path).read())]
        self.assertGreater(len(commands), 20)

    def test_every_documented_command_and_flag_exists_and_every_value_parses(self):
        problems = []
        for path in DOCS:
            for command, args in _commands(open(path).read()):
                where = os.path.relpath(path, helpers.ROOT)
                if not os.path.isfile(os.path.join(helpers.ROOT, "tf_cyclegan", f"{command}.py")):
                    problems.append(f"{where}: tf_cyclegan.{command} is not a command")
                    continue
                flags = _flags(command)
                for argument in args:
                    problem = _problem(command, argument, flags)
                    if argument.startswith("--flagfile=") and not problem:
                        for line in _flagfile_lines(argument.split("=", 1)[1]):
                            problem = problem or _problem(command, line, flags)
                    if problem:
                        problems.append(f"{where}: {problem}")
        self.assertEmpty(sorted(set(problems)))

    def test_a_renamed_flag_is_caught(self):
        text = (
            "```sh\npython -m tf_cyclegan.train --flagfile=flags/smoke.cfg \\\n  --model_dirr=x\n"
        )
        ((command, args),) = _commands(text)
        problem = _problem(command, args[-1], _flags(command))
        self.assertEqual(problem, "--model_dirr is not a flag of train")


if __name__ == "__main__":
    tf.test.main()
