"""A database that cannot be written, as a user meets it: one line, its own exit code, no long waits.

Real subprocesses: a lock held by another process's write transaction; a read-only bind mount
and a full tmpfs, each in a private mount namespace (``unshare -m``, so nothing of the machine
changes; the tests run as root).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from store.database import open_engine
from tests.cli.test_cli import SCRIPT
from tests.conftest import FIXTURES, TAMA, source_entry

BUSY_TIMEOUT_S = 3
needs_namespaces = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare -m")


def setup(folder: Path, database: Path) -> Path:
    """A config whose one list is a local file, over a migrated database with its baseline not yet run."""
    shutil.copy(FIXTURES / TAMA, folder / "tama.txt")
    config = {
        "database": {"url": f"sqlite:///{database}", "busy_timeout_s": BUSY_TIMEOUT_S},
        "sources": [source_entry("tama", (folder / "tama.txt").as_uri())],
        "links": {"enabled": False},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    open_engine(f"sqlite:///{database}").dispose()
    return folder / "config.yaml"


def check(config: Path, *, shell_first: str = "") -> tuple[subprocess.CompletedProcess[str], float]:
    command = shlex.join([SCRIPT or "sesaku-monitor", "check", "--no-links", "--config", str(config)])
    started = time.monotonic()
    if shell_first:
        done = subprocess.run(["unshare", "-m", "sh", "-c", f"{shell_first} && exec {command}"], capture_output=True, text=True, timeout=120)
    else:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - started


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_database_locked_by_another_writer_waits_busy_timeout_s_once_then_exit_5(tmp_path: Path) -> None:
    config = setup(tmp_path, tmp_path / "monitor.db")
    holder = sqlite3.connect(tmp_path / "monitor.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write transaction, held for the whole command
    try:
        done, took = check(config)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 5, done.stderr
    line = one_line(done)
    assert line.startswith("sesaku-monitor: error: ") and "is locked by another process" in line and "busy_timeout_s" in line
    # One wait of busy_timeout_s (plus the command's start), not five of them.
    assert BUSY_TIMEOUT_S <= took < 3 * BUSY_TIMEOUT_S + 4, took


@needs_namespaces
def test_a_read_only_file_system_is_one_line_and_exit_7(tmp_path: Path) -> None:
    config = setup(tmp_path, tmp_path / "monitor.db")
    folder = shlex.quote(str(tmp_path))
    done, _ = check(config, shell_first=f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder}")
    assert done.returncode == 7, done.stderr
    line = one_line(done)
    assert "cannot be written" in line and "read-only" in line and "cannot upgrade" not in line


@needs_namespaces
@pytest.mark.parametrize("room_kb", [0, 92], ids=["no-room-at-all", "full-during-the-run"])
def test_a_full_disk_is_one_line_and_exit_6(tmp_path: Path, room_kb: int) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    config = setup(tmp_path, disk / "monitor.db")
    shutil.move(disk / "monitor.db", tmp_path / "monitor.db")
    size = (tmp_path / "monitor.db").stat().st_size
    d, db = shlex.quote(str(disk)), shlex.quote(str(tmp_path / "monitor.db"))
    # A tmpfs just big enough for the database, the rest filled but for room_kb.
    fill = f"dd if=/dev/zero of={d}/filler bs=1k count=$(( $(df -k --output=avail {d} | tail -1) - {room_kb} )) 2>/dev/null"
    done, _ = check(config, shell_first=f"mount -t tmpfs -o size={size // 1024 + 1024}k tmpfs {d} && cp {db} {d}/ && {{ {fill}; true; }}")
    assert done.returncode == 6, done.stderr
    line = one_line(done)
    assert "no space left on the disk" in line and "free some space" in line
