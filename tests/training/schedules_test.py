import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.training import schedules


class ScheduleTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(
        (0, 1.0), (999, 1.0), (1000, 1.0), (1500, 0.5), (1999, 0.001), (2000, 0.0), (2500, 0.0)
    )
    def test_linear_is_constant_then_decays_to_zero(self, step, factor):
        schedule = schedules.CycleGANSchedule(2e-4, "linear", 10, epochs=100, epochs_decay=100)
        self.assertAllClose(schedule(step), 2e-4 * factor, atol=1e-10)

    @parameterized.parameters((0, 1.0), (499, 1.0), (500, 0.1), (1000, 0.01))
    def test_step_multiplies_by_a_tenth(self, step, factor):
        schedule = schedules.CycleGANSchedule(1.0, "step", 10, 100, 100, lr_decay_epochs=50)
        self.assertAllClose(schedule(step), factor, rtol=1e-5)

    @parameterized.parameters((0, 1.0), (1000, 0.5), (2000, 0.0), (3000, 0.0))
    def test_cosine_anneals_over_all_epochs(self, step, factor):
        schedule = schedules.CycleGANSchedule(1.0, "cosine", 10, epochs=100, epochs_decay=100)
        self.assertAllClose(schedule(step), factor, atol=1e-6)

    def test_unknown_policy_is_named(self):
        with self.assertRaisesRegex(ValueError, "'plateau'.*linear"):
            schedules.CycleGANSchedule(1.0, "plateau", 10, 1, 1)


if __name__ == "__main__":
    tf.test.main()
