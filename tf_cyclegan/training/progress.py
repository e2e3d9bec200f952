"""The console's view of a run: a live progress bar on a terminal, plain lines elsewhere.

On a terminal, one line redrawn every step (tqdm): step/total, epoch, images/s, ETA, the
generator and discriminator totals, and the last checkpoint. When stdout is a file or a
pipe (logs, CI), one plain line every ``--log_every`` steps with every loss term, as
``grep`` and log collectors expect. TensorBoard gets every term either way.
"""

import sys
import time

import tqdm

from tf_cyclegan.training.losses import NAMES as LOSS_NAMES

# What the bar shows of the losses: the two totals the optimizers minimise.
_TOTALS = {"G": "generators/total", "D": "discriminators/total"}


def _format_eta(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Reports a run's progress; ``live`` (default: stdout is a terminal) picks the bar.

    Args:
        total_steps: the step the run ends at.
        steps_per_epoch: iterations per epoch.
        global_batch: images per domain per step, for images/s.
        start_step: the step the run starts (or resumes) from.
        live: a redrawn bar (True) or plain lines (False); None: whether stdout is a tty.
    """

    def __init__(self, total_steps, steps_per_epoch, global_batch, start_step, live=None):
        self.total, self.spe, self.batch = total_steps, steps_per_epoch, global_batch
        self.last_step, self.last_time = start_step, time.perf_counter()
        self.images_per_second = 0.0
        self.live = sys.stdout.isatty() if live is None else live
        self._bar = None
        self._postfix = {}
        if self.live:
            self._bar = tqdm.tqdm(
                total=total_steps,
                initial=start_step,
                unit="step",
                dynamic_ncols=True,
                file=sys.stdout,
                bar_format="{n_fmt}/{total_fmt} |{bar}| {elapsed}<{remaining}{postfix}",
            )

    def _epoch(self, step):
        return f"{step // self.spe + (1 if step % self.spe else 0)}/{-(-self.total // self.spe)}"

    def _measure(self, step):
        """Updates images/s over the steps since the last report."""
        now = time.perf_counter()
        if step > self.last_step:
            self.images_per_second = (step - self.last_step) * self.batch / (now - self.last_time)
        self.last_step, self.last_time = step, now

    def tick(self, step):
        """Moves the bar to ``step`` (every step; no host sync). Plain lines ignore it."""
        if not self._bar:
            return
        self._measure(step)
        self._postfix.update(epoch=f"ep {self._epoch(step)}")
        self._postfix.update(rate=f"{self.images_per_second:.1f} img/s")
        self._bar.set_postfix_str(", ".join(self._postfix.values()), refresh=False)
        self._bar.update(step - self._bar.n)

    def update(self, step, values):
        """Reports the losses of ``step`` ({name: float}): the bar's totals, or a line."""
        if self._bar:
            self._postfix.update(
                {k: f"{k} {values[v]:.3f}" for k, v in _TOTALS.items() if v in values}
            )
            self.tick(step)
            return
        self._measure(step)
        eta = (self.total - step) * self.batch / max(self.images_per_second, 1e-9)
        # The names TensorBoard shows: LOSS_NAMES first, in order, then any others (distill).
        known = [k for k in LOSS_NAMES if k in values]
        names = known + sorted(set(values) - set(known))
        terms = " ".join(f"{k} {values[k]:.3f}" for k in names)
        print(
            f"step {step}/{self.total} epoch {self._epoch(step)} | {terms} | "
            f"{self.images_per_second:.2f} img/s | ETA {_format_eta(eta)}",
            flush=True,
        )

    def checkpoint(self, step):
        """Shows the last checkpoint on the bar."""
        if self._bar:
            self._postfix["ckpt"] = f"ckpt {step}"
            self._bar.set_postfix_str(", ".join(self._postfix.values()), refresh=True)

    def write(self, text):
        """Prints a line without breaking the bar."""
        if self._bar:
            self._bar.write(text, file=sys.stdout)
        else:
            print(text, flush=True)

    def close(self):
        if self._bar:
            self._bar.close()
            self._bar = None
