"""Run ``sesaku-monitor`` with a pause inside the store transaction of a source run.

``python paused_store.py MARKER run --config …``: once the measures of a list are written
but not committed, the file MARKER is created and the run sleeps, so a test can SIGKILL
the daemon exactly there. The product code has no such hook; this wrapper patches it in.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import monitor.lists.pipeline as pipeline
from monitor.cli import main

marker = Path(sys.argv.pop(1))
original = pipeline.apply_list


def paused(session: Any, *args: Any, **kwargs: Any) -> Any:
    result = original(session, *args, **kwargs)
    session.flush()
    marker.touch()
    time.sleep(60)
    return result


pipeline.apply_list = paused
sys.argv[0] = "sesaku-monitor"
main()
