"""Every command the documentation shows exists, with flags it has and values it takes.

Each ``python -m tf_cyclegan.<command> ...`` in the README, ``export/README.md`` and
``docs/`` (code blocks, with their ``\\`` continuations, and inline code) is checked against
the command's own flags, read from the command in a process of its own; every
``--flagfile=`` a command names exists, and its flags are that command's too. A renamed or
removed flag fails here before it fails a reader.
"""

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
