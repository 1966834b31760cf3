"""What a worker process never imports: the optional parts of httpx and httpcore it has no use for.

Imported by :mod:`monitor.runtime.worker` before anything imports httpx. Both libraries try an
optional import and carry on without it when it fails, which is what this module makes happen:

* ``trio``: httpcore imports it, if installed, to pick its locks under trio; our requests run on
  asyncio only (``monitor.asyncio_backend``), where httpcore uses anyio's.
* ``httpx._main``: httpx's command line (click, rich, pygments), imported by ``httpx/__init__``
  for its ``httpx`` console script, which runs in a process of its own.

Together they were a fifth of a worker's import CPU (1.57 → 1.25 s for ``import
monitor.runtime.worker``, docs/scale.md), paid again by every worker that starts. A module
already imported is left as it is: this only keeps an unused one out.
"""

from __future__ import annotations

import sys

__all__ = ["UNUSED"]

UNUSED = ("trio", "httpx._main")

for _name in UNUSED:
    # None in sys.modules makes ``import name`` raise ImportError, the libraries' own fallback.
    sys.modules.setdefault(_name, None)  # type: ignore[arg-type]
