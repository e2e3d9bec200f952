"""tf_cyclegan: unpaired image-to-image translation (CycleGAN) for TensorFlow 2.

Paper mapping (Zhu et al. 2017), stated once: domain A is the paper's X and B is Y.
``generator_a2b`` is G: X -> Y, ``generator_b2a`` is F: Y -> X, ``discriminator_a`` is D_X
(judges domain-A images) and ``discriminator_b`` is D_Y (judges domain-B images).
"""

import os

__version__ = "0.1.0"

# The one thing done on import, because it must precede TensorFlow's: its C++ INFO and
# WARNING lines (CPU feature notices, dataset buffer sizes, the TFLite converter's ignored
# options) are internals a user cannot act on, so they stay out of the console unless the
# user set TF_CPP_MIN_LOG_LEVEL (0 shows everything). Errors still show; Python's warnings,
# ours included, are unaffected.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
