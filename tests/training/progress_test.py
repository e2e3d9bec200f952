"""The console's progress: plain lines for logs, a live bar for a terminal."""

import contextlib
import io

import tensorflow as tf

from tf_cyclegan.training import progress

_LOSSES = {"generators/total": 1.25, "discriminators/total": 0.5, "generators/cycle_a": 0.75}


def _printed(live, report):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bar = progress.Progress(8, 4, 2, 0, live=live)
        report(bar)
        bar.close()
    return out.getvalue()


class ProgressTest(tf.test.TestCase):
    def test_plain_lines_carry_every_term_and_ticks_print_nothing(self):
        def report(bar):
            for step in (1, 2, 3):
                bar.tick(step)
            bar.update(4, _LOSSES)

        lines = _printed(False, report).splitlines()
        self.assertLen(lines, 1)
        self.assertStartsWith(lines[0], "step 4/8 epoch 1/2 | ")
        for name, value in _LOSSES.items():
            self.assertIn(f"{name} {value:.3f}", lines[0])
        self.assertIn("ETA", lines[0])

    def test_live_bar_shows_step_epoch_totals_and_last_checkpoint(self):
        def report(bar):
            bar.tick(3)
            bar.update(5, _LOSSES)
            bar.checkpoint(5)
            bar.tick(6)

        shown = _printed(True, report).split("\r")[-1]
        self.assertIn("6/8", shown)
        self.assertIn("ep 2/2", shown)
        self.assertIn("img/s", shown)
        self.assertIn("G 1.250, D 0.500", shown)
        self.assertIn("ckpt 5", shown)
        self.assertNotIn("generators/cycle_a", shown)  # Every term goes to TensorBoard.


if __name__ == "__main__":
    tf.test.main()
