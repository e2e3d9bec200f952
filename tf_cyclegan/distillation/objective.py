"""The distillation objective, as pure functions of the networks and a batch.

Terms are float32 [batch] like ``losses``'s and named by the network they train:
``generator_a2b/output``, ``generator_a2b/features``, ``generator_a2b/adversarial``, and
``discriminator_b/real`` / ``discriminator_b/fake`` for the discriminator that judges the
a2b student's (domain-B) outputs against the teacher's.
"""

import tensorflow as tf

from tf_cyclegan.training import losses


def _per_example_mse(x, y):
    squared = tf.square(tf.cast(x, tf.float32) - tf.cast(y, tf.float32))
    return tf.reduce_mean(tf.reshape(squared, [tf.shape(x)[0], -1]), axis=1)


def student_terms(direction, student, teacher, discriminator, distill_config, gan_mode):
    """One student's objective on one batch of its source-domain images.

    Args:
        direction: "a2b" or "b2a", for the term names.
        student: (outputs, projected features or None): float [batch, h, w, c] in [-1, 1]
            and float [batch, h/4, w/4, k], the student's in training mode.
        teacher: (outputs, features or None), the teacher's for the same images.
        discriminator: a Keras model judging images of the target domain.
        distill_config: a ``config.DistillConfig``: the weights.
        gan_mode: the adversarial loss (``losses.gan_loss``).

    Returns:
        {name: float32 [batch]}: "output" always; "features" when both have features and
        ``lambda_feature`` > 0; "adversarial" when ``lambda_adversarial`` > 0.
    """
    cfg, prefix = distill_config, f"generator_{direction}"
    (student_out, student_features), (teacher_out, teacher_features) = student, teacher
    terms = {f"{prefix}/output": cfg.lambda_output * losses.l1_loss(student_out, teacher_out)}
    if cfg.lambda_feature > 0 and student_features is not None and teacher_features is not None:
        distance = _per_example_mse(student_features, teacher_features)
        terms[f"{prefix}/features"] = cfg.lambda_feature * distance
    if cfg.lambda_adversarial > 0:
        logits = discriminator(student_out, training=True)
        terms[f"{prefix}/adversarial"] = cfg.lambda_adversarial * losses.gan_loss(
            logits, True, gan_mode
        )
    return terms
