"""A worker's start-up leaves out what its links jobs never use."""

from __future__ import annotations

import json
import subprocess
import sys


def test_a_worker_imports_no_trio_no_httpx_command_line_and_no_repair_rules() -> None:
    probe = ("import json, sys; import monitor.runtime.worker; "
             "print(json.dumps([name for name in ('trio', 'httpx._main', 'rich', 'pygments', 'rapidfuzz', "
             "'monitor.links.repair_check') if sys.modules.get(name) is not None]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    # Each was imported at every worker's start (a fifth of its import CPU) and never used there.
    assert json.loads(done.stdout) == []


def test_httpx_still_works_without_them() -> None:
    probe = ("import monitor.runtime.worker, httpx, httpcore; "
             "print(httpx.Request('GET', 'http://127.0.0.1/').url.host, httpcore.AsyncConnectionPool.__name__)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["127.0.0.1", "AsyncConnectionPool"]
