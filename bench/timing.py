"""What the benches that time a read in-process share: bench/web.py's database, and p50/p95 of a call."""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType


def bench_web() -> ModuleType:
    """bench/web.py as a module (its database builder and served-app helpers), loaded from its
    file: the name ``web`` is the web view's package."""
    spec = importlib.util.spec_from_file_location("bench_web", Path(__file__).with_name("web.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def times(action: Callable[[], object], requests: int, *, digits: int = 1) -> str:
    """``action`` run ``requests`` times: ``p50 …  p95 …`` in ms."""
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return f"p50 {statistics.median(samples):7.{digits}f} ms  p95 {samples[int(len(samples) * 0.95) - 1]:7.{digits}f} ms"
