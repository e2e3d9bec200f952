"""The CycleGAN objective, as pure functions of the networks and a batch.

Every term is float32 [batch]: the mean over each example's pixels or patches, so that
summing ``tf.nn.compute_average_loss`` over replicas gives the mean over the global batch.
Terms are named by the network they train; the same names go to the console and TensorBoard.
"""

import tensorflow as tf

from tf_cyclegan.common.config import GAN_MODES


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
        real, fake: float32 [batch, h, w, c] in [-1, 1] (c: the domain's channels); fake
            carries no gradient.
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


# A generator term trains the generator it is named after; the cycle terms train both.
GENERATOR_TERMS = (
    "generator_a2b/adversarial",
    "generator_b2a/adversarial",
    "generator_a2b/identity",
    "generator_b2a/identity",
    "generators/cycle_a",
    "generators/cycle_b",
)
GENERATORS_TOTAL = "generators/total"
DISCRIMINATOR_TERMS = tuple(
    f"discriminator_{domain}/{part}"
    for domain in ("a", "b")
    for part in ("real", "fake", "gradient_penalty")
)
DISCRIMINATORS_TOTAL = "discriminators/total"
# The order of the console line and of TensorBoard's list.
NAMES = (*GENERATOR_TERMS, GENERATORS_TOTAL, *DISCRIMINATOR_TERMS, DISCRIMINATORS_TOTAL)


def call_pair(network, x, y, concat):
    """``network(x), network(y)`` in training mode, as one call when ``concat``.

    One call keeps the convolutions larger; it is exact only when no layer mixes images
    (any norm but batch norm).
    """
    if not concat:
        return network(x, training=True), network(y, training=True)
    out = network(tf.concat([x, y], axis=0), training=True)
    return out[: tf.shape(x)[0]], out[tf.shape(x)[0] :]


def generator_terms(networks, real_a, real_b, loss_config, concat=True):
    """The generators' objective on one batch (Zhu et al. 2017, eq. 3, plus identity).

    Args:
        networks: has ``generator_a2b``, ``generator_b2a``, ``discriminator_a`` and
            ``discriminator_b``, Keras models (e.g. a ``CycleGAN``).
        real_a, real_b: float32 [batch, h, w, c] in [-1, 1], c each domain's channels (1 or 3).
        loss_config: a ``config.LossConfig``: gan_mode and the lambdas.
        concat: run each generator once on both its inputs (``call_pair``).

    Returns:
        ({name in GENERATOR_TERMS: float32 [batch]}, (fake_a, fake_b)); the identity terms
        are absent when ``lambda_identity`` is 0.
    """
    cfg, g_a2b, g_b2a = loss_config, networks.generator_a2b, networks.generator_b2a
    identity = cfg.lambda_identity > 0
    if identity:
        fake_b, same_b = call_pair(g_a2b, real_a, real_b, concat)
        fake_a, same_a = call_pair(g_b2a, real_b, real_a, concat)
    else:
        fake_b, fake_a = g_a2b(real_a, training=True), g_b2a(real_b, training=True)
    terms = {
        "generator_a2b/adversarial": gan_loss(
            networks.discriminator_b(fake_b, training=True), True, cfg.gan_mode
        ),
        "generator_b2a/adversarial": gan_loss(
            networks.discriminator_a(fake_a, training=True), True, cfg.gan_mode
        ),
        "generators/cycle_a": cfg.lambda_a * l1_loss(g_b2a(fake_b, training=True), real_a),
        "generators/cycle_b": cfg.lambda_b * l1_loss(g_a2b(fake_a, training=True), real_b),
    }
    if identity:
        # Each generator should leave images of its target domain alone; weighted by that
        # domain's cycle weight, as the official code does.
        terms["generator_a2b/identity"] = (
            cfg.lambda_b * cfg.lambda_identity * l1_loss(same_b, real_b)
        )
        terms["generator_b2a/identity"] = (
            cfg.lambda_a * cfg.lambda_identity * l1_loss(same_a, real_a)
        )
    return terms, (fake_a, fake_b)


def discriminator_terms(discriminator, domain, real, fake, loss_config, seed, concat=True):
    """One discriminator's objective: real images judged real, generated ones fake.

    Args:
        discriminator: a Keras model judging images of ``domain``.
        domain: "a" or "b", for the term names.
        real, fake: float32 [batch, h, w, c] in [-1, 1] (c: the domain's channels); fake
            from the image pool.
        loss_config: a ``config.LossConfig``.
        seed: int [2], seeds the WGAN-GP interpolation.
        concat: judge real and fake in one call (``call_pair``).

    Returns:
        {name in DISCRIMINATOR_TERMS: float32 [batch]}; gradient_penalty for wgangp only.
    """
    cfg, prefix = loss_config, f"discriminator_{domain}"
    logits_real, logits_fake = call_pair(discriminator, real, fake, concat)
    terms = {
        f"{prefix}/real": 0.5 * gan_loss(logits_real, True, cfg.gan_mode),
        f"{prefix}/fake": 0.5 * gan_loss(logits_fake, False, cfg.gan_mode),
    }
    if cfg.gan_mode == "wgangp":
        penalty = gradient_penalty(discriminator, real, fake, seed)
        terms[f"{prefix}/gradient_penalty"] = cfg.lambda_gp * penalty
    return terms
