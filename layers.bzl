"""The layers of tf_cyclegan: each package, and the packages it may import.

The one declaration of the architecture: BUILD's package libraries take their deps from it,
and tools/check_layers.py (run by Bazel when it builds a package, and by the tests) refuses
any import it does not allow. The commands at the top of tf_cyclegan/ may import any
package; nothing imports a command.
"""

LAYERS = {
    "common": [],
    "networks": ["common"],
    "data": ["common"],
    "torch_files": ["common"],
    "evaluation": ["common", "data", "torch_files"],
    "pretrained": ["common", "networks", "torch_files"],
    "serving": ["common", "data", "networks"],
    "training": ["common", "data", "evaluation", "networks", "torch_files"],
    "exporting": [
        "common",
        "data",
        "evaluation",
        "networks",
        "pretrained",
        "serving",
        "torch_files",
    ],
    "distillation": [
        "common",
        "data",
        "evaluation",
        "networks",
        "torch_files",
        "training",
    ],
}

def tf_cyclegan_package(name):
    """A py_library for tf_cyclegan/<name>/ whose build fails on an import LAYERS forbids.

    Args:
      name: the package's folder under tf_cyclegan/, a key of LAYERS.
    """
    srcs = native.glob(["tf_cyclegan/%s/**/*.py" % name])
    native.genrule(
        name = name + "_layering",
        srcs = srcs,
        outs = [name + "_layering.ok"],
        cmd = "python3 $(location tools/check_layers.py) --package=%s $(SRCS) && touch $@" % name,
        tools = ["tools/check_layers.py"],
    )
    native.py_library(
        name = name,
        srcs = srcs,
        # Files a package reads besides its code (exporting's web page).
        data = [":" + name + "_layering"] + native.glob(
            ["tf_cyclegan/%s/**/*" % name],
            exclude = ["**/*.py", "**/__pycache__/**"],
        ),
        imports = ["."],
        srcs_version = "PY3",
        deps = [":" + dep for dep in LAYERS[name]] + [":package_root"],
    )
