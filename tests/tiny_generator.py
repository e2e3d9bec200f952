"""The tests' generator architectures, registered for tests only: the resnet family and the
student family at depth 1.

At the tests' shapes (32 px, ngf 4) building, tracing and compiling a training step costs
time per layer, not per pixel: one residual block instead of six makes every training a
test starts about a third cheaper, XLA's about half. They are the builders the registered
architectures use, with one block; the registered architectures themselves are tested where
they matter (every architecture builds and trains, the smoke preset, the students' sizes,
the official PyTorch fixtures, the run directory from before the restructuring).

Importing this module registers them; configurations are checked against the registry when
they are validated, so the order of imports does not matter. ``helpers`` imports it, and
``subprocess_site/sitecustomize.py`` does the same for the commands the tests start (run
directories the tests train name these in config.json).
"""

from tf_cyclegan.common import architectures

# Six blocks see 59 pixels and each block adds 8 (two 3x3 convolutions at 1/4 scale):
# measured by tiling_test like the registered ones.
GENERATOR = architectures.Generator("resnet_1blocks", "resnet", 1, 4, receptive_radius=19)
NAME = GENERATOR.name
STUDENT = architectures.Generator("mobile_1blocks", "student", 1, 4, width=16)
STUDENT_NAME = STUDENT.name

architectures.register(GENERATOR, STUDENT)
