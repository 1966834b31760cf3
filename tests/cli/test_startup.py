"""What a long-running or frequent command pays for before it works: only the wings it uses."""

from __future__ import annotations

import subprocess
import sys

_WINGS = ("monitor.lists.pipeline", "monitor.lists.parsers", "notifiers.outbox", "notifiers.render", "jinja2", "bs4")


def _loaded_after(*modules: str) -> list[str]:
    code = (f"import sys\nfor name in {modules!r}:\n    __import__(name)\n"
            f"print(sorted(name for name in {_WINGS!r} if name in sys.modules))")
    return eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_a_worker_starts_serving_links_jobs_without_the_list_pipeline_the_notifiers_or_an_html_parser():
    # The worker's own entry path: `sesaku-monitor worker` imports these before its first job.
    assert _loaded_after("monitor.cli.worker", "monitor.runtime.logs", "monitor.runtime.worker") == []

