"""Ctrl-C and SIGTERM: a request honoured between steps, so the step's state is saved.

SIGTERM is what ``timeout``, job schedulers and ``docker stop`` send; every command treats it
as Ctrl-C (partial outputs removed, the training step saved) and exits 143 instead of 130.
"""

import signal
import threading


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered as Ctrl-C is, so every cleanup path that handles one handles both."""


def _raise(signum):
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def raise_on_sigterm():
    """From now on, SIGTERM raises ``Terminated`` in the main thread (as SIGINT raises
    KeyboardInterrupt). Call once, from the main thread, when a command starts."""
    signal.signal(signal.SIGTERM, lambda signum, frame: _raise(signum))


class DeferredInterrupt:
    """Turns the first Ctrl-C or SIGTERM into a request the loop honours between steps.

    A SIGINT delivered as an exception can land in a finalizer or one of TensorFlow's Python
    callbacks, where Python swallows it ("Exception ignored in ...") and training went on; a
    flag checked between steps cannot be lost. A second signal interrupts at once.
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = None
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in self._SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum, frame):
        del frame
        if self.requested is not None:
            _raise(signum)
        self.requested = signum

    def check(self):
        """Raises KeyboardInterrupt (Terminated for SIGTERM) if a signal came."""
        if self.requested is not None:
            _raise(self.requested)

    def restore(self):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
