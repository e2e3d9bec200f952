"""Ctrl-C during training: a request honoured between steps, so the step's state is saved."""

import signal
import threading


class DeferredInterrupt:
    """Turns the first Ctrl-C into a request the loop honours between steps.

    A SIGINT delivered as an exception can land in a finalizer or one of TensorFlow's Python
    callbacks, where Python swallows it ("Exception ignored in ...") and training went on; a
    flag checked between steps cannot be lost. A second Ctrl-C interrupts at once.
    """

    def __init__(self):
        self.requested = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        del signum, frame
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self):
        if self.requested:
            raise KeyboardInterrupt

    def restore(self):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
