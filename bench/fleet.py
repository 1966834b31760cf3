"""How fast a fleet of workers checks links, and whether per-host politeness holds across it.

    python bench/fleet.py                       # 200 hosts × 100 URLs, 1, 2 and 4 workers
    python bench/fleet.py --hosts 20 --urls 20  # a quick look

A loopback site answers on 127.0.0.2 … 127.0.0.(hosts+1) (one address per host, so that the
link checker sees distinct hosts), each answer after ``--latency`` seconds, and counts the
requests in flight per host, keeping the highest. Each host's URLs are queued as two
procrastinate jobs sharing the lock ``host:<address>``, so that without the lock two workers
would check one host at once. Each job runs the link checker engine
(``monitor.link_checker.check_links``) with the per-host cap and interval; the ``links`` job
of monitor/jobs.py is not in the registry yet, so the bench drives the engine in its own
task (the lock, the queue and the workers are the same).

Printed per fleet size: URLs/s, that rate against the politeness limit (every host at its
interval), and the highest concurrency any host saw (it must never exceed the cap).
Needs SESAKU_TEST_POSTGRES_URL (or --admin-url): a throwaway database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from procrastinate import App, PsycopgConnector  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from monitor.link_checker import LinkCheckSettings, check_links  # noqa: E402
from monitor.worker import apply_queue_schema, queue_conninfo  # noqa: E402

PORT = 18_080
TASK = "bench.check_host"
# The app is made in this script on purpose (tasks are named explicitly): no warning about it.
logging.getLogger("procrastinate.blueprints").setLevel(logging.ERROR)


@dataclass
class HostCounter:
    in_flight: int = 0
    highest: int = 0
    served: int = 0


@dataclass
class Site:
    """The loopback site's tallies, per host address, and when the first and last answers went."""

    hosts: dict[str, HostCounter] = field(default_factory=dict)
    first: float = 0.0
    last: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


async def _answer(site: Site, latency: float, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    host = writer.get_extra_info("sockname")[0]
    counter = site.hosts.setdefault(host, HostCounter())
    body = b"<html><body>ok</body></html>"
    try:
        while request := await reader.readuntil(b"\r\n\r\n"):
            counter.in_flight += 1
            counter.highest = max(counter.highest, counter.in_flight)
            await asyncio.sleep(latency)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            counter.in_flight -= 1
            counter.served += 1
            now = time.monotonic()
            site.first = site.first or now
            site.last = now
            del request
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def start_site(hosts: list[str], latency: float) -> Site:
    """Serve every host address from one event loop in a thread of this process."""
    site = Site()
    ready = threading.Event()

    async def serve() -> None:
        for host in hosts:
            await asyncio.start_server(lambda r, w: _answer(site, latency, r, w), host, PORT, backlog=512)
        ready.set()
        await asyncio.Event().wait()

    threading.Thread(target=lambda: asyncio.run(serve()), daemon=True).start()
    ready.wait(30)
    return site


def make_app(conninfo: str) -> App:
    app = App(connector=PsycopgConnector(conninfo=conninfo, min_size=1, max_size=8))

    @app.task(name=TASK, queue="bench")
    async def check_host(urls: list[str], per_host: int, interval: float) -> int:
        settings = LinkCheckSettings(concurrency=per_host, per_host=per_host, per_host_interval=interval, retries=0,
                                     sibling_probe=False, allow_private_addresses=True, deadline=30)
        return len([result async for result in check_links(urls, settings)])

    return app


def worker_main(conninfo: str, concurrency: int) -> None:
    """One worker process: take host jobs until SIGTERM (the bench sends it when the queue is empty)."""
    app = make_app(conninfo)
    app.run_worker(queues=["bench"], concurrency=concurrency, delete_jobs="always", fetch_job_polling_interval=0.2)


def wait_for_empty_queue(conninfo: str) -> None:
    """A worker with wait=False would stop when only locked jobs are left: watch the queue instead."""
    engine = create_engine(make_url(conninfo).set(drivername="postgresql+psycopg"))
    with engine.connect() as connection:
        while connection.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")):
            time.sleep(0.2)
            connection.commit()
    engine.dispose()


def queue_jobs(conninfo: str, hosts: list[str], urls: int, per_host: int, interval: float) -> None:
    app = make_app(conninfo)
    with app.open():
        task = app.tasks[TASK]
        half = urls // 2
        for host in hosts:
            paths = [f"http://{host}:{PORT}/page/{n}.html" for n in range(urls)]
            for part in (paths[:half], paths[half:]):
                task.configure(lock=f"host:{host}").defer(urls=part, per_host=per_host, interval=interval)


def run_fleet(conninfo: str, workers: int, args: argparse.Namespace, hosts: list[str]) -> dict[str, float]:
    site = start_site(hosts, args.latency) if not hasattr(run_fleet, "site") else run_fleet.site  # type: ignore[attr-defined]
    run_fleet.site = site  # type: ignore[attr-defined]
    with site.lock:
        site.hosts.clear()
        site.first = site.last = 0.0
    queue_jobs(conninfo, hosts, args.urls, args.per_host, args.interval)
    command = [sys.executable, __file__, "--worker", conninfo, "--concurrency", str(args.concurrency)]
    processes = [subprocess.Popen(command) for _ in range(workers)]
    wait_for_empty_queue(conninfo)
    for process in processes:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    served = sum(counter.served for counter in site.hosts.values())
    seconds = max(site.last - site.first, 1e-9)
    limit = len(hosts) / args.interval  # every host checked once per interval: the politeness ceiling
    return {"workers": workers, "urls": served, "seconds": seconds, "urls_per_s": served / seconds,
            "ratio": served / seconds / limit, "highest": max(counter.highest for counter in site.hosts.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--urls", type=int, default=100, help="URLs per host")
    parser.add_argument("--per-host", type=int, default=2, help="requests in flight to one host (the cap)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between two checks of one host")
    parser.add_argument("--latency", type=float, default=0.02, help="how long the site takes to answer")
    parser.add_argument("--concurrency", type=int, default=20, help="host jobs one worker runs at once")
    parser.add_argument("--fleets", default="1,2,4")
    parser.add_argument("--admin-url", default=os.environ.get("SESAKU_TEST_POSTGRES_URL"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker, args.concurrency)
        return
    if not args.admin_url:
        parser.error("give --admin-url or set SESAKU_TEST_POSTGRES_URL (a PostgreSQL role that may create databases)")
    hosts = [f"127.0.0.{n + 2}" for n in range(args.hosts)]
    if args.hosts > 250:
        parser.error("at most 250 hosts (127.0.0.2 … 127.0.0.251)")
    name = f"sesaku_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        apply_queue_schema(url)
        print(f"{args.hosts} hosts × {args.urls} URLs; cap {args.per_host} per host, one check per {args.interval:g}s per host "
              f"(politeness limit {args.hosts / args.interval:.0f} URLs/s); site latency {args.latency * 1000:.0f} ms; "
              f"{args.concurrency} host jobs per worker; {os.cpu_count()} CPUs")
        print(f"{'workers':>7} {'URLs':>7} {'seconds':>8} {'URLs/s':>8} {'of limit':>9} {'max per host':>13}")
        for workers in (int(n) for n in args.fleets.split(",")):
            row = run_fleet(queue_conninfo(url), workers, args, hosts)
            print(f"{row['workers']:>7} {row['urls']:>7} {row['seconds']:>8.1f} {row['urls_per_s']:>8.0f} {row['ratio']:>8.0%} "
                  f"{row['highest']:>6} (cap {args.per_host})", flush=True)
            assert row["highest"] <= args.per_host, "a host saw more requests at once than the cap"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
