"""CycleGAN objectives, as per-example losses ready for ``tf.nn.compute_average_loss``.

Every function returns float32 [batch]: the mean over each example's pixels or patches, so
that summing ``compute_average_loss`` over replicas gives the mean over the global batch.
"""

import tensorflow as tf

from tf_cyclegan.config import GAN_MODES


def _per_example_mean(x):
    return tf.reduce_mean(tf.reshape(tf.cast(x, tf.float32), [tf.shape(x)[0], -1]), axis=1)


def gan_loss(logits, target_is_real, gan_mode):
    """Adversarial loss of discriminator outputs against a real or fake target.

    Args:
        logits: float [batch, h, w, 1], discriminator outputs (unbounded).
        target_is_real: Python bool.
        gan_mode: ``lsgan`` (least squares on 1/0), ``vanilla`` (sigmoid cross-entropy on
            logits) or ``wgangp`` (the critic's mean, negated for real targets).

    Returns:
        float32 [batch].
    """
    logits = tf.cast(logits, tf.float32)
    if gan_mode == "lsgan":
        target = 1.0 if target_is_real else 0.0
        return _per_example_mean(tf.square(logits - target))
    if gan_mode == "vanilla":
        labels = tf.ones_like(logits) if target_is_real else tf.zeros_like(logits)
        return _per_example_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))
    if gan_mode == "wgangp":
        return -_per_example_mean(logits) if target_is_real else _per_example_mean(logits)
    raise ValueError(f"unknown gan_mode {gan_mode!r}; expected one of {GAN_MODES}")


def l1_loss(x, y):
    """Mean absolute error per example. x, y: float [batch, h, w, c] -> float32 [batch]."""
    return _per_example_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))


def gradient_penalty(discriminator, real, fake, seed, constant=1.0):
    """WGAN-GP penalty (Gulrajani et al. 2017) on random interpolates of real and fake.

    Differentiable with respect to the discriminator's weights (a nested tape), so the
    caller's tape trains the critic towards unit gradient norm.

    Args:
        discriminator: callable, images -> logits.
        real, fake: float32 [batch, h, w, 3] in [-1, 1]; fake carries no gradient.
        seed: int32 [2], seed for the stateless interpolation weights.
        constant: the target gradient norm.

    Returns:
        float32 [batch], (||grad||_2 - constant)^2 per example.
    """
    alpha = tf.random.stateless_uniform([tf.shape(real)[0], 1, 1, 1], seed=seed)
    interpolates = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        score = tf.reduce_sum(tf.cast(discriminator(interpolates, training=True), tf.float32))
    grads = tape.gradient(score, interpolates)
    grads = tf.reshape(grads, [tf.shape(grads)[0], -1])
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + 1e-16)
    return tf.square(norm - constant)
