"""tf_cyclegan: unpaired image-to-image translation (CycleGAN) for TensorFlow 2.

Paper mapping (Zhu et al. 2017), stated once: domain A is the paper's X and B is Y.
``generator_a2b`` is G: X -> Y, ``generator_b2a`` is F: Y -> X, ``discriminator_a`` is D_X
(judges domain-A images) and ``discriminator_b`` is D_Y (judges domain-B images).
"""

__version__ = "0.1.0"
