"""The fleet's fixtures: a fresh PostgreSQL database with the queue, worker subprocesses,
and a throwaway PostgreSQL cluster that a test may restart without touching the shared one."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from procrastinate import BaseConnector
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.runtime.worker import apply_queue_schema
from store.database import open_engine, upgrade
from tests.conftest import _postgres_admin_url

ROOT = Path(__file__).resolve().parents[3]
# Seconds, not minutes: a tick every second, a worker silent for 2 s is dead.
FAST_WORKER = {"tick": "* * * * * *", "heartbeat_s": 0.5, "stalled_after_s": 2, "retries": 3, "retry_backoff_s": 1}


def create_database(admin_url: str, *, queue: bool = True) -> str:
    """A new, empty database on the server of ``admin_url``, upgraded and (unless told) with the queue."""
    name = f"sesaku_fleet_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = open_engine(url, require_current=False)
    upgrade(engine)
    engine.dispose()
    if queue:
        apply_queue_schema(url)
    return url


def drop_database(admin_url: str, url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fleet_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one fleet test (the fleet needs nothing else)."""
    admin_url = _postgres_admin_url()
    url = create_database(admin_url)
    try:
        yield url
    finally:
        drop_database(admin_url, url)


@dataclass(frozen=True)
class Reads:
    """What statements read of a table so far: its sequential scans, and its rows, by any scan."""

    seq_scans: int
    rows: int


async def queue_reads(connector: BaseConnector, admin: psycopg.Connection[tuple[Any, ...]]) -> dict[str, Reads]:
    """What was read of the queue's jobs and events tables so far, by the queue's connection too:
    PostgreSQL publishes a connection's counts when it goes idle, at most once a second unless told."""
    await connector.execute_query_async("SELECT pg_stat_force_next_flush()")
    rows = admin.execute("SELECT relname, seq_scan, seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables "
                         "WHERE relname IN ('procrastinate_jobs', 'procrastinate_events')")
    return {str(name): Reads(int(scans), int(read)) for name, scans, read in rows}


def write_config(path: Path, url: str, sources: list[dict[str, Any]], *, every: str = "1h", lease_s: float = 900,
                 http: dict[str, Any] | None = None, **worker: Any) -> Path:
    data = {
        "database": {"url": url},
        "http": {"allow_private_addresses": True, "total_timeout_s": 20, "read_timeout_s": 15, "connect_timeout_s": 2, **(http or {})},
        "schedule": {"sources": {"every": every}, "lock_lease_s": lease_s},
        # The seed lists cite real sites, unreachable here: these tests are about the lists' jobs.
        "links": {"enabled": False},
        "worker": {**FAST_WORKER, **worker},
        "sources": sources,
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self, signum: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)


def cli_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SESAKU_DATABASE_URL", None)
    return env


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start ``sesaku-monitor worker`` subprocesses; whatever is left is killed at the end."""
    started: list[WorkerProcess] = []

    def start(config: Path, *extra: str, prefix: tuple[str, ...] = ()) -> WorkerProcess:
        """``prefix``: what runs the worker, e.g. ``unshare --pid --fork`` (a PID namespace of its own)."""
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([*prefix, sys.executable, "-m", "monitor", "-v", "worker", "--config", str(config), *extra],
                                       cwd=tmp_path, env=cli_env(), stdout=out, stderr=subprocess.STDOUT)
        started.append(WorkerProcess(process, log))
        return started[-1]

    yield start
    for worker in started:
        worker.kill()
        worker.process.wait(timeout=10)


def serving(worker: WorkerProcess) -> None:
    """Wait for ``worker`` to serve the queue: a loaded machine takes seconds to start one, which no
    recovery bound should count."""
    wait_until(lambda: "serving queue" in worker.output(), 60, "the worker to serve the queue", step=0.2)


def recovered(output: str, unit: str) -> bool:
    """Whether a worker's log says it closed a dead worker's job of ``unit``: queued again, or left to
    the job its own tick queued first (the unit still due): both end with the unit run once."""
    outcome = r"(queued again as job \d+|closed: the unit is already waiting in the queue)"
    return re.search(rf"job \d+ \({re.escape(unit)}\) of a worker that stopped: {outcome}", output) is not None


def wait_until(condition: Callable[[], Any], timeout: float, what: str, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def scalar(url: str, sql: str, **params: Any) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(sql), params)
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


@dataclass
class Cluster:
    """A PostgreSQL cluster of its own in a temporary folder, on a free port."""

    bin: Path
    data: Path
    port: int
    as_user: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://sesaku:sesaku@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args],
                       check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        self.ctl("-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "-l", str(self.data / "log"), "start")

    def stop(self, check: bool = True) -> None:
        self.ctl("-m", "fast", "stop", check=check)


@pytest.fixture
def throwaway_cluster() -> Iterator[Cluster]:
    """Started and stopped by the test itself, so restarting it disturbs no one else."""
    _postgres_admin_url()  # the same rule as the rest of the PostgreSQL suite: skipped only outside CI
    pg_bin = _pg_bin()
    if pg_bin is None:
        pytest.fail("PostgreSQL's pg_ctl/initdb are not installed, so the restart test cannot run")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # Not under pytest's tmp_path: that is private to root, and initdb refuses to run as root.
    home = Path(tempfile.mkdtemp(prefix="sesaku-pg-"))
    data = home / "pgdata"
    (home / "pw").write_text("sesaku\n")
    if as_user:
        home.chmod(0o755)
        shutil.chown(home, "postgres", "postgres")
        shutil.chown(home / "pw", "postgres", "postgres")
    subprocess.run([*as_user, str(pg_bin / "initdb"), "-D", str(data), "-U", "sesaku", "--pwfile", str(home / "pw"), "-A", "scram-sha-256"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cluster = Cluster(pg_bin, data, free_port(), as_user)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop(check=False)
        shutil.rmtree(home, ignore_errors=True)
