"""The students' objective: distillation terms, their weights."""

import keras
import tensorflow as tf

from tf_cyclegan.common import config as config_lib
from tf_cyclegan.distillation import objective


class ObjectiveTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.images = tf.random.uniform([2, 8, 8, 3], -1, 1, seed=3)
        self.features = tf.random.uniform([2, 2, 2, 5], seed=4)
        inputs = keras.Input((None, None, 3))
        self.judge = keras.Model(inputs, keras.layers.Conv2D(1, 3)(inputs))

    def test_a_student_equal_to_its_teacher_has_no_distillation_loss(self):
        same = (self.images, self.features)
        terms = objective.student_terms(
            "a2b", same, same, self.judge, config_lib.DistillConfig(), "lsgan"
        )
        self.assertAllClose(terms["generator_a2b/output"], [0.0, 0.0])
        self.assertAllClose(terms["generator_a2b/features"], [0.0, 0.0])
        self.assertIn("generator_a2b/adversarial", terms)

    def test_weights_scale_and_zero_weights_drop_terms(self):
        student, teacher = (self.images, None), (-self.images, None)
        cfg = config_lib.DistillConfig(lambda_output=3.0, lambda_adversarial=0.0)
        terms = objective.student_terms("b2a", student, teacher, self.judge, cfg, "lsgan")
        self.assertEqual(set(terms), {"generator_b2a/output"})
        want = 3.0 * tf.reduce_mean(tf.abs(2 * self.images), axis=[1, 2, 3])
        self.assertAllClose(terms["generator_b2a/output"], want, rtol=1e-6)


if __name__ == "__main__":
    tf.test.main()
