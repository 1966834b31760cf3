"""What a long-running or frequent command pays for before it works: only the wings it uses."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

_WINGS = ("monitor.lists.pipeline", "monitor.lists.parsers", "monitor.lists.views", "notifiers.outbox", "notifiers.render", "jinja2", "bs4")


def _loaded_after(*modules: str, wings: tuple[str, ...] = _WINGS) -> list[str]:
    code = (f"import sys\nfor name in {modules!r}:\n    __import__(name)\n"
            f"print(sorted(name for name in {wings!r} if name in sys.modules))")
    return eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_a_worker_starts_serving_links_jobs_without_the_list_pipeline_the_notifiers_or_an_html_parser():
    # The worker's own entry path: `sesaku-monitor worker` imports these before its first job.
    assert _loaded_after("monitor.cli.worker", "monitor.runtime.logs", "monitor.runtime.worker") == []


def test_a_check_of_the_lists_starts_without_the_link_checker():
    # `check --no-links` and a worker's list jobs: the link checker and its run wait for a links run.
    assert _loaded_after("monitor.cli.lists", "monitor.config", "monitor.runtime.check", "monitor.lists.pipeline",
                         wings=("monitor.links.run", "monitor.links.checker")) == []


def test_status_loads_nothing_of_a_list_s_journey():
    assert _loaded_after("monitor.cli.daemon", "monitor.runtime.status", "monitor.runtime.fleet_status", "store.database") == []


def test_json_into_a_pipe_is_one_line_and_at_a_terminal_indented(tmp_path):
    code = "from monitor.cli.options import print_json\nprint_json({'sources': [{'id': 'tama', 'records': 3}]})"
    piped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert piped == '{"sources": [{"id": "tama", "records": 3}]}\n'
    leader, follower = pty.openpty()
    subprocess.run([sys.executable, "-c", code], stdout=follower, check=True)
    os.close(follower)
    shown = os.read(leader, 4096).decode()
    os.close(leader)
    assert '\r\n  "sources": [' in shown
