"""The daemon's pid file, as an operator uses it: `status` says whether a daemon runs, `kill -HUP
$(cat …pid)` reloads it, a second daemon on the same database is refused, a stale file is taken over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from tests.conftest import TAMA, seed_text, source_entry
from tests.runtime.test_check import publish
from tests.cli.test_cli import run
from tests.runtime.harness import wait_until, write_config
from tests.runtime.test_process import daemons  # noqa: F401 (the fixture)


def _status(config: Path) -> dict:
    done = run("status", "--json", "--config", str(config), cwd=config.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["daemon"]


def test_the_pid_file_names_the_running_daemon_reloads_it_and_goes_with_it(tmp_path, site, daemons):  # noqa: F811
    publish(site, "/tama.txt", seed_text(TAMA))
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'monitor.db'}",
                          [source_entry("tama", site.url("/tama.txt"))], sources={"every": "1h"})
    pid_file = tmp_path / "sesaku-monitor.pid"
    assert _status(config) == {"running": False, "pid": None, "pid_file": str(pid_file)}
    daemon = daemons(config)
    daemon.wait_for("started")
    assert pid_file.read_text().strip() == str(daemon.process.pid)
    assert _status(config) == {"running": True, "pid": daemon.process.pid, "pid_file": str(pid_file)}
    assert "daemon: running, pid" in run("status", "--config", str(config), cwd=tmp_path).stdout

    # README's reload command
    subprocess.run(["sh", "-c", f"kill -HUP $(cat {pid_file})"], check=True)
    daemon.wait_for("reloaded")

    second = run("run", "--config", str(config), cwd=tmp_path)
    assert second.returncode != 0 and f"another daemon is running (pid {daemon.process.pid}" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1

    assert daemon.stop()[0] == 0
    assert not pid_file.exists() and _status(config)["running"] is False


def test_a_pid_file_left_by_a_dead_daemon_is_taken_over(tmp_path, site, daemons):  # noqa: F811
    publish(site, "/tama.txt", seed_text(TAMA))
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'monitor.db'}",
                          [source_entry("tama", site.url("/tama.txt"))], sources={"every": "1h"}, pid_file=str(tmp_path / "run" / "d.pid"))
    gone = subprocess.Popen(["true"])
    gone.wait()
    pid_file = tmp_path / "run" / "d.pid"
    pid_file.parent.mkdir()
    pid_file.write_text(f"{gone.pid}\n")
    assert _status(config) == {"running": False, "pid": gone.pid, "pid_file": str(pid_file)}
    daemon = daemons(config)
    daemon.wait_for("started")
    wait_until(lambda: pid_file.read_text().strip() == str(daemon.process.pid), 5, "the new daemon's pid")
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait()
    assert _status(config)["running"] is False  # killed: the file stays, and says it is stale
    assert os.path.exists(pid_file)
