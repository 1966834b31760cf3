"""Run ``sesaku-monitor`` with the daemon replanning every second instead of every minute.

``python fast_replan.py run --config …``: the jobs keyed by the database (hosts whose links
are due) come and go at each replan; a test sees several replans in a few seconds. The
product code has no such knob; this wrapper patches it in.
"""

from __future__ import annotations

import monitor.runtime.daemon as daemon
from monitor.cli import main

daemon._REPLAN_EVERY_S = 1.0
main()
