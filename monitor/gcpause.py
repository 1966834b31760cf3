"""Pausing Python's cycle collector while a large list is parsed and matched.

Parsing and matching a 100,000-row list builds millions of small dicts, tuples and strings,
none of them in reference cycles. On Python 3.11 each of those allocations counts towards the
next collection, and each full collection walks every live object: a third of the run went
there. Reference counting still frees everything as usual while the collector is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
