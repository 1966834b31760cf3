"""The daemon as a real subprocess: its config file, its JSON log lines, signals, health."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.cli.test_cli import SCRIPT

HERE = Path(__file__).parent


def write_config(path: Path, database_url: str, entries: list[dict[str, Any]], **schedule: Any) -> Path:
    data = {
        "database": {"url": database_url, "busy_timeout_s": 5},
        "http": {"allow_private_addresses": True, "total_timeout_s": 30, "read_timeout_s": 30, "connect_timeout_s": 2},
        "schedule": {"jitter_s": 0, "reload_poll_s": 0.3, "stop_timeout_s": 10, **schedule},
        "sources": entries,
        "links": {"enabled": False},  # link jobs would change what each test plans
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class DaemonProcess:
    """``sesaku-monitor run --log-json --health-port 0`` with its stderr parsed line by line."""

    def __init__(self, config: Path, *, prelude: list[str] | None = None) -> None:
        if prelude:
            command = [sys.executable, *prelude]
        else:
            command = [SCRIPT] if SCRIPT else [sys.executable, "-m", "monitor"]
        command += ["run", "--config", str(config), "--log-json", "--health-port", "0"]
        self.lines: list[str] = []
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.process = subprocess.Popen(command, cwd=config.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, "PYTHONPATH": str(HERE.parent.parent)})
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._lock:
                self.lines.append(line)
                try:
                    self.events.append(json.loads(line))
                except json.JSONDecodeError:
                    pass

    def find(self, event: str, **fields: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e.get("event") == event and all(e.get(k) == v for k, v in fields.items())]

    # A daemon's first line comes after its imports and its store's opening: over 20 s on a loaded
    # 2-CPU machine (seen at a load of 10). A test that bounds how soon says so with its own timeout.
    def wait_for(self, event: str, timeout: float = 60, count: int = 1, **fields: Any) -> dict[str, Any]:
        def found() -> list[dict[str, Any]]:
            if self.process.poll() is not None and len(self.find(event, **fields)) < count:
                raise AssertionError(f"daemon exited ({self.process.returncode}) before {event}:\n{self.log()}")
            matches = self.find(event, **fields)
            return matches if len(matches) >= count else []
        return wait_until(found, timeout, f"{event} {fields} x{count}\n{self.log()}")[count - 1]

    def log(self) -> str:
        with self._lock:
            return "".join(self.lines[-40:])

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.wait_for('started')['health_port']}/health"

    def health(self) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(self.health_url, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 15) -> tuple[int, float]:
        """SIGTERM, then the exit code and how long the exit took."""
        started = time.monotonic()
        self.signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)
