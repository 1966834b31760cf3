"""The daemon's pid file: one daemon per database, found by ``status`` and by ``kill -HUP``.

The console script runs as ``python3 …/sesaku-monitor``, so ``pidof sesaku-monitor`` finds
nothing; the pid file is how an operator (or a cron job, or logrotate) reaches the daemon.
A file left by a daemon that died (a crash, SIGKILL, a reboot) is stale: its pid is gone or
belongs to another program by now, and the next daemon takes the file over.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

from monitor.errors import MonitorError

if TYPE_CHECKING:  # `status` reads a checked file's view instead (monitor.config_view)
    from monitor.config import Config
    from monitor.config_view import ConfigView

__all__ = ["DaemonRunning", "PidState", "claim", "pid_path", "read", "release"]

PID_NAME = "sesaku-monitor.pid"


class DaemonRunning(MonitorError):
    """Raised when another daemon already runs over the same database."""


@dataclass(frozen=True, slots=True)
class PidState:
    path: Path
    pid: int | None  # None: no file, or no pid in it
    alive: bool

    def describe(self) -> str:
        if self.pid is None:
            return f"not running (no pid file at {self.path})"
        if self.alive:
            return f"running, pid {self.pid} ({self.path})"
        return f"not running (stale pid file {self.path}: pid {self.pid} is gone)"


def pid_path(config: Union[Config, ConfigView]) -> Path | None:
    """``schedule.pid_file``, else beside a SQLite database; none for a shared PostgreSQL store,
    where many workers run and the queue says who is alive."""
    if config.schedule.pid_file:
        return Path(config.schedule.pid_file)
    url = config.database.url
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        return Path(url.removeprefix("sqlite:///")).resolve().parent / PID_NAME
    return None


def _is_daemon(pid: int) -> bool:
    """Whether ``pid`` is a live sesaku-monitor process (not a pid reused by another program)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's: not ours to take over
        return True
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # no /proc (macOS): a live pid is taken at its word
        return True
    # The console script, or ``python -m monitor``.
    return b"sesaku-monitor" in command or b"\0monitor\0" in command


def read(path: Path) -> PidState:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return PidState(path, None, False)
    pid = int(text) if text.isdigit() else None
    return PidState(path, pid, pid is not None and _is_daemon(pid))


def claim(path: Path) -> None:
    """Write our pid to ``path`` (atomically); refuse while another daemon holds it."""
    held = read(path)
    if held.alive and held.pid != os.getpid():
        raise DaemonRunning(f"another daemon is running (pid {held.pid}, {path}); stop it first or set schedule.pid_file")
    path.parent.mkdir(parents=True, exist_ok=True)
    spare = path.with_name(f".{path.name}.{os.getpid()}")
    spare.write_text(f"{os.getpid()}\n", encoding="ascii")
    os.replace(spare, path)


def release(path: Path) -> None:
    """Remove ``path`` if it is still ours (a successor may have taken it over)."""
    if read(path).pid == os.getpid():
        path.unlink(missing_ok=True)
