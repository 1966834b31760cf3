"""A worker held after its stop request by something other than a job (the queue's shutdown
waiting on a pool, a thread that never returns) is ended by the deadline's own thread."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from .conftest import ROOT, cli_env

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
