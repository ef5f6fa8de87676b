"""Python's cycle collector paused while a bulk job runs.

An import or a campaign batch builds hundreds of thousands of short-lived records while
it holds many long-lived ones (the file's observations, the plan of an applied run).
The cycle collector keeps walking the long-lived ones: measured on a 5,000-row register
run, a fifth of the time went to it, and its full collections grow with the file. These
records hold no reference cycles (reference counting frees them), so a job pauses the
automatic collections and collects the young generations itself every so often
(:func:`tidy`), which keeps any cycles it does make bounded. Concurrent jobs share one
pause; the collector runs again when the last one ends, if it ran before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_jobs = 0
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause automatic cycle collection for the block (nested and concurrent use is fine)."""
    global _jobs, _was_enabled  # one pause shared by every job of the process
    with _lock:
        if _jobs == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _jobs += 1
    try:
        yield
    finally:
        with _lock:
            _jobs -= 1
            if _jobs == 0 and _was_enabled:
                gc.enable()


def tidy() -> None:
    """Collect the young generations: what a paused job has made since the last tidy."""
    gc.collect(1)
