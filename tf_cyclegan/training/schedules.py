"""Learning-rate schedules, advanced per iteration from the optimizer's step counter."""

import math

import keras
import tensorflow as tf

from tf_cyclegan.common.config import LR_POLICIES


class CycleGANSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The official CycleGAN schedules, per iteration instead of per epoch.

    - ``linear``: ``lr`` for ``epochs`` epochs, then linearly to 0 over ``epochs_decay``.
    - ``step``: multiplied by 0.1 every ``lr_decay_epochs`` epochs.
    - ``cosine``: cosine annealing from ``lr`` to 0 over ``epochs + epochs_decay``.

    Args:
        lr: the initial learning rate.
        policy: one of ``LR_POLICIES``.
        steps_per_epoch: iterations in one epoch (> 0).
        epochs, epochs_decay, lr_decay_epochs: lengths, in epochs.
    """

    def __init__(self, lr, policy, steps_per_epoch, epochs, epochs_decay, lr_decay_epochs=50):
        if policy not in LR_POLICIES:
            raise ValueError(f"unknown lr_policy {policy!r}; expected one of {LR_POLICIES}")
        if steps_per_epoch <= 0:
            raise ValueError(f"steps_per_epoch={steps_per_epoch} must be positive")
        self.lr = lr
        self.policy = policy
        self.steps_per_epoch = steps_per_epoch
        self.epochs = epochs
        self.epochs_decay = epochs_decay
        self.lr_decay_epochs = lr_decay_epochs

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        spe = float(self.steps_per_epoch)
        if self.policy == "linear":
            constant_steps = self.epochs * spe
            decay_steps = max(self.epochs_decay * spe, 1.0)
            factor = 1.0 - tf.maximum(step - constant_steps, 0.0) / decay_steps
        elif self.policy == "step":
            factor = tf.pow(0.1, tf.floor(step / max(self.lr_decay_epochs * spe, 1.0)))
        else:
            total = max((self.epochs + self.epochs_decay) * spe, 1.0)
            factor = 0.5 * (1.0 + tf.cos(math.pi * tf.minimum(step, total) / total))
        return self.lr * tf.clip_by_value(factor, 0.0, 1.0)

    def get_config(self):
        return {
            "lr": self.lr,
            "policy": self.policy,
            "steps_per_epoch": self.steps_per_epoch,
            "epochs": self.epochs,
            "epochs_decay": self.epochs_decay,
            "lr_decay_epochs": self.lr_decay_epochs,
        }
