"""SIGTERM handled like Ctrl-C, so that a stopped training run saves its checkpoint first.

Schedulers (Slurm, Kubernetes) and ``docker stop`` end a process with SIGTERM, which by default kills it at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from tts_gen.errors import Terminated


def _raise_terminated(signum, frame) -> None:
    signal.signal(signum, signal.SIG_IGN)  # a second SIGTERM must not interrupt the checkpoint being saved
    raise Terminated(f"signal {signum}")


def sigterm_as_interrupt() -> Callable[[], None]:
    """Makes SIGTERM raise :class:`Terminated` (a ``KeyboardInterrupt``) in the main thread, as Ctrl-C does;
    returns the function that puts the previous handler back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread can handle signals
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
