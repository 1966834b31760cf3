"""A worker held after its stop request by something other than a job (the queue's shutdown
waiting on a pool, a thread that never returns) is ended by the deadline's own thread; an idle
worker stops within seconds of SIGTERM whatever its database's state."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import _postgres_admin_url

from .conftest import ROOT, cli_env, scalar, serving, wait_until, write_config

HELD = textwrap.dedent("""
    import asyncio, logging, threading
    from monitor.runtime.stopping import Deadline, InFlight

    async def unregister_worker():
        await asyncio.Event().wait()  # a pool that never gives a connection back

    async def main():
        deadline = Deadline("vm:1", 0.5, InFlight(), asyncio.get_running_loop())
        deadline.arm()
        # The loop is free, but the task it waits on never ends; a thread blocks the exit too.
        threading.Thread(target=threading.Event().wait, name="sesaku-job_0").start()
        await asyncio.create_task(unregister_worker(), name="shutdown")

    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
""")


def test_a_worker_held_past_the_grace_exits_1_saying_what_it_waited_on() -> None:
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-c", HELD], cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - began < 30
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not stopped within worker.shutdown_grace_s (0.5s)" in lines[0], done.stderr
    assert "no job was running" in lines[0] and "shutdown in unregister_worker > Event.wait" in lines[0], lines[0]


@pytest.mark.parametrize("fault", ["database dropped", "connections terminated"])
def test_sigterm_stops_an_idle_worker_within_seconds_whatever_the_database(tmp_path: Path, fleet_url: str, start_worker,
                                                                           fault: str) -> None:
    # A dropped database never gives psycopg's pool a connection: the worker waited its 30 s for one
    # to unregister (35 s and exit 1, with the default grace). Connections terminated come back at once.
    worker = start_worker(write_config(tmp_path / "config.yaml", fleet_url, []))
    serving(worker)
    database = make_url(fleet_url).database
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if fault == "database dropped":
            connection.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        else:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": database})
    admin.dispose()
    if fault == "database dropped":
        wait_until(lambda: "database unavailable" in worker.output(), 30, "the worker to see the database gone")
    worker.kill(signal.SIGTERM)
    try:
        code = worker.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the worker did not stop within 10 s of SIGTERM\n{worker.output()}") from None
    assert code == 0, worker.output()
    output = worker.output()
    assert "Traceback" not in output, output
    stopped = [line for line in output.splitlines() if f":{worker.process.pid} stopped" in line]
    assert len(stopped) == 1, output
    if fault == "database dropped":
        assert "stopped without unregistering from the queue: the database is unavailable" in stopped[0], output
    else:
        assert scalar(fleet_url, "SELECT count(*) FROM procrastinate_workers") == 0, output
