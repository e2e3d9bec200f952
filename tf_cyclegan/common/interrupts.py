"""Ctrl-C and SIGTERM: honoured within a fraction of a second, with nothing half-written.

SIGTERM is what ``timeout``, job schedulers and ``docker stop`` (10 s before SIGKILL) send;
every command treats it as Ctrl-C (partial outputs removed, the training step saved) and
exits 143 instead of 130.

Python runs a signal handler only between bytecodes of the main thread, so one long call
into TensorFlow or LiteRT (a tile of a 12-megapixel photo, a conversion) delays it until the
call returns: tens of seconds on a slow CPU. ``responsive`` runs such a call in a thread of
its own while the main thread waits in short slices, free to unwind at once; an abandoned
call computes into memory only (never files) and ends with the process (``exit_process``).
"""

import functools
import os
import signal
import sys
import threading

# How often a waiting main thread looks up; Python also wakes it for signals on POSIX.
_WAIT_SLICE_S = 0.1
_abandoned = []  # Threads still computing what an interrupt no longer wants.
_deferred = None  # The DeferredInterrupt whose pending request work may honour at once.


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered as Ctrl-C is, so every cleanup path that handles one handles both."""


def _raise(signum):
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def raise_on_sigterm():
    """From now on, SIGTERM raises ``Terminated`` in the main thread (as SIGINT raises
    KeyboardInterrupt). Call once, from the main thread, when a command starts."""
    signal.signal(signal.SIGTERM, lambda signum, frame: _raise(signum))


def responsive(fn):
    """``fn`` (pure computation: it writes no file), made to return at once on Ctrl-C or
    SIGTERM: called from the main thread, it runs in a daemon thread while the main thread
    waits, raising ``KeyboardInterrupt`` (``Terminated``) as soon as a signal comes, or a
    ``DeferredInterrupt`` that allows it has a request pending."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            return fn(*args, **kwargs)
        outcome = {}

        def work():
            try:
                outcome["value"] = fn(*args, **kwargs)
            except BaseException as e:  # Re-raised in the caller's thread.
                outcome["error"] = e

        name = getattr(fn, "__name__", type(fn).__name__)
        thread = threading.Thread(target=work, name=f"responsive {name}", daemon=True)
        thread.start()
        try:
            while thread.is_alive():
                if _deferred is not None:
                    _deferred.check()
                thread.join(_WAIT_SLICE_S)
        except BaseException:
            _abandoned.append(thread)
            raise
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return call


def exit_process(status):
    """Exits with ``status``. With abandoned computations still running, at once: Python's
    shutdown would wait for the calls or tear down the runtimes under them."""
    sys.stdout.flush()
    sys.stderr.flush()
    if any(thread.is_alive() for thread in _abandoned):
        os._exit(status)
    sys.exit(status)


class DeferredInterrupt:
    """Turns the first Ctrl-C or SIGTERM into a request the loop honours between steps.

    A SIGINT delivered as an exception can land in a finalizer or one of TensorFlow's Python
    callbacks, where Python swallows it ("Exception ignored in ...") and training went on; a
    flag checked between steps cannot be lost. A second signal interrupts at once.

    Args:
        honour_in_work: whether ``responsive`` calls (an evaluation's batches) raise a
            pending request at once instead of finishing first. False where every process
            must stop at the same point (a multi-worker cluster agrees after a step).
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, honour_in_work=True):
        global _deferred
        self.requested = None
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in self._SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
            if honour_in_work:
                _deferred = self

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
        global _deferred
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        if _deferred is self:
            _deferred = None
