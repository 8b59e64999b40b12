"""Ctrl-C and SIGTERM during training, so that a stopped run saves its checkpoint first.

Schedulers (Slurm, Kubernetes) and ``docker stop`` end a process with SIGTERM, which by default kills it at once.
One process handles SIGTERM like Ctrl-C (:func:`sigterm_as_interrupt`). Under several processes every rank must
stop at the same step, or the others would wait for it forever: there the signals are only recorded
(:class:`StopRequests`), and the ranks agree at the end of each step whether any of them was asked to stop.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from tts_gen.errors import Terminated


def _raise_terminated(signum, frame) -> None:
    signal.signal(signum, signal.SIG_IGN)  # a second SIGTERM must not interrupt the checkpoint being saved
    raise Terminated(f"signal {signum}")


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _restorer(signum: int, previous) -> Callable[[], None]:
    return lambda: signal.signal(signum, signal.SIG_DFL if previous is None else previous)


def sigterm_as_interrupt() -> Callable[[], None]:
    """Makes SIGTERM raise :class:`Terminated` (a ``KeyboardInterrupt``) in the main thread, as Ctrl-C does;
    returns the function that puts the previous handler back."""
    if not _in_main_thread():
        return lambda: None  # only the main thread can handle signals
    return _restorer(signal.SIGTERM, signal.signal(signal.SIGTERM, _raise_terminated))


class StopRequests:
    """Records Ctrl-C (SIGINT) and SIGTERM instead of raising, until :meth:`restore`: ``interrupted`` and
    ``terminated`` say which arrived (torchrun passes a signal it receives on to every worker, so a rank may get
    one more than once; each is kept, none raises)."""

    def __init__(self) -> None:
        self.interrupted = False
        self.terminated = False
        self._restore: list[Callable[[], None]] = []
        if _in_main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._restore.append(_restorer(signum, signal.signal(signum, self._record)))

    def _record(self, signum, frame) -> None:
        if signum == signal.SIGTERM:
            self.terminated = True
        else:
            self.interrupted = True

    def restore(self) -> None:
        """Puts the previous handlers back."""
        for restore in self._restore:
            restore()
        self._restore = []
