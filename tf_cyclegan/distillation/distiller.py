"""The distillation training state and its distributed train step (``distill``).

A ``training.state.TrainingState``, so ``train_lib`` runs it with the same loop: exact
resume, TensorBoard, samples, evaluation and strategies. The students are
``generator_a2b`` / ``generator_b2a`` and their judges ``discriminator_b`` /
``discriminator_a``: the checkpoint keys of a trained run, so ``export`` and ``translate``
read a distilled run as any other. The teacher is restored from its run at every start and
is not part of the checkpoint.
"""

import dataclasses

import keras
import tensorflow as tf

from tf_cyclegan.common import conventions, run_dir
from tf_cyclegan.distillation import objective
from tf_cyclegan.evaluation import evaluate_lib, metrics
from tf_cyclegan.networks import models, restore
from tf_cyclegan.training import distribute, losses, state, summaries


@dataclasses.dataclass
class _Untracked:
    """Networks the checkpoint must not hold: the teacher, and feature views that share the
    students' layers (a second path to the same variables)."""

    teacher: dict  # direction -> keras.Model, images -> (outputs, features or None)
    students: dict  # direction -> keras.Model, images -> (outputs, features or None)


def _with_features(generator, layer_name):
    """``generator`` as images -> [outputs, features] (features None without a layer)."""
    if layer_name is None:
        return keras.Model(generator.input, [generator.output, generator.output])
    features = generator.get_layer(layer_name).output
    return keras.Model(generator.input, [generator.output, features])


class Distiller(state.TrainingState):
    """Owns the students, their discriminators and feature projections, two Adams and the
    step counter; reads the frozen teacher.

    Args:
        config: a ``config.Config`` whose ``distill.teacher`` and ``teacher_checkpoint`` are
            set and whose ``model`` describes the students (``distill_lib.from_teacher``).
        steps_per_epoch: iterations per epoch, for the learning-rate schedule.
        strategy: a ``tf.distribute.Strategy``; the current one by default.
    """

    def __init__(self, config, steps_per_epoch, strategy=None):
        super().__init__("distiller", config, steps_per_epoch, strategy)
        self._directions = config.model.generator_directions
        cfg, seed = config.distill, config.train.seed
        with self.strategy.scope(), self.dtype_policy():
            teacher_config, teachers, _ = restore.load_generators(
                cfg.teacher, cfg.teacher_checkpoint
            )
            teacher_layer = models.feature_layer(teacher_config.model.generator)
            student_layer = models.feature_layer(config.model.generator)
            use_features = cfg.lambda_feature > 0 and teacher_layer is not None
            self._frozen = _Untracked({}, {})
            for index, direction in enumerate(self.directions):
                student = models.build_generator(
                    config.model, 4 * seed + 1 + index, run_dir.GENERATOR_KEYS[direction], direction
                )
                setattr(self, run_dir.GENERATOR_KEYS[direction], student)
                judge = self._discriminator_name(direction)
                domain = conventions.DIRECTION[direction].target
                setattr(
                    self,
                    judge,
                    models.build_discriminator(config.model, 4 * seed + 3 + index, judge, domain),
                )
                self._frozen.teacher[direction] = _with_features(
                    teachers[direction], teacher_layer if use_features else None
                )
                self._frozen.students[direction] = _with_features(
                    student, student_layer if use_features else None
                )
                if use_features:
                    # A 1x1 convolution maps the student's features to the teacher's width.
                    width = teachers[direction].get_layer(teacher_layer).output.shape[-1]
                    projection = keras.layers.Conv2D(width, 1, name=f"projection_{direction}")
                    projection.build(student.get_layer(student_layer).output.shape)
                    setattr(self, f"projection_{direction}", projection)
            self._use_features = use_features
        self.finish_setup()
        self.teacher_discriminators = self._start_from_teacher_discriminators(cfg)

    @property
    def directions(self):
        """The directions distilled: those the teacher run holds, or the ones asked for."""
        return self._directions

    @staticmethod
    def _discriminator_name(direction):
        """The discriminator judging ``direction``'s outputs (images of its target domain)."""
        return conventions.DIRECTION[direction].judge

    def _start_from_teacher_discriminators(self, cfg):
        """Copies the teacher run's discriminators where it has them (a trained teacher; an
        imported one has none). A resumed run's checkpoint overwrites them afterwards."""
        names = [self._discriminator_name(d) for d in self.directions]
        tree = run_dir.checkpoint_tree({name: getattr(self, name) for name in names})
        status = tree.restore(cfg.teacher_checkpoint)
        try:
            status.expect_partial().assert_existing_objects_matched()
        except AssertionError:
            return False  # Fresh discriminators (their initial weights are unchanged).
        return True

    @property
    def generator_variables(self):
        """The students' and the projections' trainable variables."""
        variables = []
        for direction in self.directions:
            variables += getattr(self, run_dir.GENERATOR_KEYS[direction]).trainable_variables
            if self._use_features:
                variables += getattr(self, f"projection_{direction}").trainable_variables
        return variables

    @property
    def discriminator_variables(self):
        return [
            v
            for direction in self.directions
            for v in getattr(self, self._discriminator_name(direction)).trainable_variables
        ]

    def _student(self, direction, images):
        """(outputs, projected features or None) of the student, in training mode."""
        outputs, features = self._frozen.students[direction](images, training=True)
        if not self._use_features:
            return outputs, None
        return outputs, getattr(self, f"projection_{direction}")(features)

    def _teacher(self, direction, images):
        """(outputs, features or None) of the frozen teacher, in inference mode."""
        outputs, features = self._frozen.teacher[direction](images, training=False)
        outputs, features = tf.stop_gradient(outputs), tf.stop_gradient(features)
        return outputs, features if self._use_features else None

    def _generator_gradients(self, batch):
        gan_mode = self.config.loss.gan_mode
        with tf.GradientTape() as tape:
            terms, teacher_outputs, student_outputs = {}, {}, {}
            for direction in self.directions:
                images = batch[conventions.DIRECTION[direction].source]
                teacher = self._teacher(direction, images)
                student = self._student(direction, images)
                judge = getattr(self, self._discriminator_name(direction))
                terms.update(
                    objective.student_terms(
                        direction, student, teacher, judge, self.config.distill, gan_mode
                    )
                )
                teacher_outputs[direction], student_outputs[direction] = teacher[0], student[0]
            total = self._average(tf.add_n(list(terms.values())))
            scaled = self.generator_optimizer.scale_loss(total)
        gradients = tape.gradient(scaled, self.generator_variables)
        return gradients, terms, total, teacher_outputs, student_outputs

    def _discriminator_gradients(self, teacher_outputs, student_outputs):
        with tf.GradientTape() as tape:
            terms = {}
            for direction in self.directions:
                domain = conventions.DIRECTION[direction].target
                seed = tf.stack([self.step, tf.constant(ord(domain), tf.int64)])
                terms.update(
                    losses.discriminator_terms(
                        getattr(self, self._discriminator_name(direction)),
                        domain,
                        teacher_outputs[direction],
                        tf.stop_gradient(student_outputs[direction]),
                        self.config.loss,
                        seed,
                    )
                )
            total = self._average(tf.add_n(list(terms.values())))
            scaled = self.discriminator_optimizer.scale_loss(total)
        return tape.gradient(scaled, self.discriminator_variables), terms, total

    def _replica_step(self, batch):
        generator_fn, discriminator_fn = self._compiled.get()
        g_grads, g, g_loss, teacher_outputs, student_outputs = generator_fn(batch)
        metrics_ = {name: self._average(value) for name, value in g.items()}
        metrics_[losses.GENERATORS_TOTAL] = g_loss
        if self.config.distill.lambda_adversarial > 0:
            d_grads, d, d_loss = discriminator_fn(teacher_outputs, student_outputs)
            distribute.apply_gradients(
                self.discriminator_optimizer, d_grads, self.discriminator_variables
            )
            metrics_.update({name: self._average(value) for name, value in d.items()})
            metrics_[losses.DISCRIMINATORS_TOTAL] = d_loss
        distribute.apply_gradients(self.generator_optimizer, g_grads, self.generator_variables)
        return metrics_

    def translate(self, images, direction):
        """The student: float32 [batch, h, w, c] in [-1, 1] -> same; direction of the run."""
        run_dir.require_direction(self.directions, direction, self.config.train.model_dir)
        return getattr(self, run_dir.GENERATOR_KEYS[direction])(images, training=False)

    def teacher_translate(self, images, direction):
        """The teacher's translation of the same images."""
        return self._frozen.teacher[direction](images, training=False)[0]

    def sample_grids(self, samples_a, samples_b):
        """{direction: input | teacher | student}, uint8 grids, for the run's directions."""
        sources = {"a2b": samples_a, "b2a": samples_b}
        return {
            d: summaries.grid(
                [sources[d], self.teacher_translate(sources[d], d), self.translate(sources[d], d)]
            )
            for d in self.directions
        }

    def evaluation_extras(self, builder, size):
        """{"<direction>/psnr_vs_teacher": dB}: student against teacher on the test split."""

        results = {}
        for direction in self.directions:
            channels = self.config.model.channels(conventions.DIRECTION[direction].source)
            split = conventions.SOURCE_TEST[direction]
            images = evaluate_lib.split_images(builder, split, size, channels)
            student = evaluate_lib.batched(lambda x, d=direction: self.translate(x, d), images)
            teacher = evaluate_lib.batched(
                lambda x, d=direction: self.teacher_translate(x, d), images
            )
            results[f"{direction}/psnr_vs_teacher"] = metrics.psnr(student, teacher)
        return results
