"""How fast a fleet of real workers checks links, and whether per-host politeness holds across it.

    python bench/fleet.py                       # 200 hosts × 100 URLs, 1, 2 and 4 workers
    python bench/fleet.py --hosts 20 --urls 20  # a quick look
    python bench/fleet.py --fleets 1 --profile  # and where each worker's CPU went (py-spy)

Everything the bench measures is the product's own code path:

1. **The data, through the real pipeline.** A loopback site on 127.0.0.1 serves one CSV list
   of ``hosts × urls`` rows, each row a measure citing one page; ``monitor.runtime.check.run_check``
   (links off) fetches, parses, matches, stores it and cites its URLs in ``links``, as
   ``sesaku-monitor check --no-links`` would. That database is the template: each fleet size
   starts from an identical copy (``CREATE DATABASE … TEMPLATE``), every link unchecked.
2. **The pages.** Another loopback site answers on 127.0.0.2 … 127.0.0.(hosts+1), one address
   per host so that the link checker sees distinct hosts: ``/p/<n>.html`` is a small HTML page
   (its own bytes, so each is snapshotted like a real page) after ``--latency`` seconds,
   anything else (the soft-404 sibling probe) a 404. It counts the requests in flight per
   host and keeps the highest.
3. **The fleet.** N ``sesaku-monitor worker`` processes (the console script) with a config whose
   ``links:`` section sets the per-host cap and interval, and a one-second tick: no host has
   run yet, so every ``links:<host>`` unit is due at the first tick and queued once for the
   fleet; a links job takes up more waiting ones and checks their hosts in one pass, each
   under the host's lock (``monitor.runtime.host_batch``), writing ``link_checks``.

Printed per fleet size: URLs/s (from the ``link_checks`` rows: all of them over the span from
the workers' start to the last check, and the steady rate between the 10th and 90th
percentile of ``checked_at``), that rate against the politeness limit (every host at its
interval), the highest concurrency any host saw (it must never exceed the cap), the load
average while it ran, the database's size per check, the workers' CPU per check from the
moment each serves the queue (target ≤ 1.5 ms; with their start-up too in the notes, and the kernel's
share), the most PostgreSQL connections the fleet held (``pg_stat_activity``), the CPU a second of a
worker left idle once every link is checked (``--idle`` seconds: the tick, polling, heartbeats); and
where the start-up went: when each worker served the queue, the first check, and the checks
made in each second from the workers' start. Needs SESAKU_TEST_POSTGRES_URL (or
--admin-url), a role that may create databases: the throwaway databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from monitor.runtime.check import open_store, run_check  # noqa: E402
from monitor.config import parse_config  # noqa: E402
from monitor.demo.site import LoopbackSite, Route  # noqa: E402
from monitor.runtime.host_batch import hosts_per_job  # noqa: E402
from monitor.runtime.worker import apply_queue_schema  # noqa: E402
from store.database import open_engine, upgrade  # noqa: E402

PORT = 18_080
SOURCE = "bench-list"
TICK = "* * * * * *"  # every second: the first tick comes soon after the workers start
HEARTBEAT_S = 2


# --------------------------------------------------------------------------- the pages' site

@dataclass
class HostCounter:
    in_flight: int = 0
    highest: int = 0
    served: int = 0


@dataclass
class Site:
    """Tallies per host address (touched only by the site's event loop; read between fleets)."""

    hosts: dict[str, HostCounter] = field(default_factory=dict)
    pages: int = 0
    latency: float = 0.0

    def reset(self) -> None:
        self.hosts.clear()


def _page(host: str, path: str) -> bytes:
    return (f"<html><head><title>{host}{path}</title></head><body><h1>施策の詳細</h1>"
            f"<p>{host} {path}: この施策のページです。</p></body></html>").encode("utf-8")


async def _answer(site: Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    host = writer.get_extra_info("sockname")[0]
    counter = site.hosts.setdefault(host, HostCounter())
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path = head.split(b" ", 2)[:2]
            counter.in_flight += 1
            counter.highest = max(counter.highest, counter.in_flight)
            try:
                await asyncio.sleep(site.latency)
                name = path.decode("ascii", "replace")
                number = name.removeprefix("/p/").removesuffix(".html")
                if name.startswith("/p/") and name.endswith(".html") and number.isdigit() and int(number) < site.pages:
                    status, body = b"200 OK", _page(host, name)
                else:
                    status, body = b"404 Not Found", b"<html><body><h1>Not Found</h1></body></html>"
                writer.write(b"HTTP/1.1 %s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % (status, len(body)))
                if method != b"HEAD":
                    writer.write(body)
                await writer.drain()
            finally:
                counter.in_flight -= 1
                counter.served += 1
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


def start_pages(hosts: list[str], pages: int, latency: float) -> Site:
    """Serve every host address from one event loop in a thread of this process."""
    site = Site(pages=pages, latency=latency)
    ready = threading.Event()

    async def serve() -> None:
        for host in hosts:
            await asyncio.start_server(lambda r, w: _answer(site, r, w), host, PORT, backlog=1024)
        ready.set()
        await asyncio.Event().wait()

    threading.Thread(target=lambda: asyncio.run(serve()), daemon=True, name="pages").start()
    if not ready.wait(30):
        raise SystemExit("the loopback pages did not start")
    return site


# --------------------------------------------------------------------------- databases

def create_database(admin: Engine, name: str, template: str | None = None) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))


def drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def config_data(url: str, list_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The config every process of the bench reads: the list, the link politeness, a fast tick."""
    return {
        "database": {"url": url},
        "http": {"allow_private_addresses": True},
        "schedule": {"sources": {"every": "1d"}, "links": {"every": "1h"}},
        "links": {"per_host": args.per_host, "per_host_interval_s": args.interval, "connect_timeout_s": 5,
                  "read_timeout_s": 10, "deadline_s": 30},
        "worker": {"tick": TICK, "concurrency": args.concurrency, "heartbeat_s": HEARTBEAT_S, "stalled_after_s": 10},
        "sources": [{"id": SOURCE, "title": "ベンチ用の施策一覧", "url": list_url, "format": "csv",
                     "key_columns": ["番号"], "name_column": "施策名", "url_columns": ["URL"]}],
    }


def list_body(hosts: list[str], urls: int) -> bytes:
    """One list, one row per cited page; the hosts interleaved as a real list mixes its sites."""
    rows = ["番号,施策名,担当,URL"]
    for n in range(urls):
        for index, host in enumerate(hosts):
            row = n * len(hosts) + index
            rows.append(f"{row + 1:06d},施策 {row + 1:06d}（{host}）,担当課 {index:03d},http://{host}:{PORT}/p/{n}.html")
    return ("\n".join(rows) + "\n").encode("utf-8")


def build_template(admin: Engine, admin_url: str, name: str, hosts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """The database every fleet starts from: the list run once through the real pipeline."""
    create_database(admin, name)
    url = database_url(admin_url, name)
    engine = open_engine(url, require_current=False)
    upgrade(engine)
    engine.dispose()
    apply_queue_schema(url)
    body = list_body(hosts, args.urls)
    lists = LoopbackSite().start()
    try:
        lists.publish("/list.csv", Route(body, content_type="text/csv; charset=utf-8"))
        config = parse_config(config_data(url, lists.url("/list.csv"), args), "bench")
        sessions = open_store(config)
        started = time.monotonic()
        report = run_check(config, sessions, links=False)
        seconds = time.monotonic() - started
        sessions.kw["bind"].dispose()
    finally:
        lists.stop()
    source = report.sources[0]
    if not source.ok:
        raise SystemExit(f"the list did not go through the pipeline: {source.status}: {source.error}")
    cited = scalar(url, "SELECT count(*) FROM links WHERE cited")
    if cited != len(hosts) * args.urls:
        raise SystemExit(f"the list cites {cited} links, expected {len(hosts) * args.urls}")
    return {"rows": len(hosts) * args.urls, "bytes": len(body), "seconds": seconds, "links": cited}


def scalar(url: str, sql: str) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(sql))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- one fleet

def worker_command() -> list[str]:
    script = Path(sys.executable).parent / "sesaku-monitor"
    found = str(script) if script.exists() else shutil.which("sesaku-monitor")
    return [found] if found else [sys.executable, "-m", "monitor"]


def run_fleet(workers: int, url: str, list_url: str, args: argparse.Namespace, site: Site, workdir: Path) -> dict[str, Any]:
    expected = len(site_hosts(args)) * args.urls
    config = workdir / f"fleet-{workers}.yaml"
    config.write_text(yaml.safe_dump(config_data(url, list_url, args), allow_unicode=True), encoding="utf-8")
    site.reset()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SESAKU_DATABASE_URL", None)
    logs = [workdir / f"fleet-{workers}-worker-{n}.log" for n in range(workers)]
    engine = create_engine(url)
    loads: list[float] = []
    started_wall = datetime.now(timezone.utc)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = cpu_busy_seconds()
    started = time.monotonic()
    processes = []
    for log in logs:
        with log.open("wb") as out:
            processes.append(subprocess.Popen([*worker_command(), "worker", "--config", str(config)],
                                              cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT))
    spies = [spy(process.pid, workdir / f"fleet-{workers}-profile-{n}.txt") for n, process in enumerate(processes)] if args.profile else []
    done = 0
    connections = 0
    serving: dict[int, tuple[float, float]] = {}  # pid → its user, system CPU seconds when it began serving the queue
    serving_cpu = (0.0, 0.0)
    idle_cpu = float("nan")
    serving_at: list[float] = []  # seconds from the start until each worker served the queue (to the bench's 0.5 s look)
    try:
        with engine.connect() as connection:
            deadline = started + args.timeout
            while time.monotonic() < deadline:
                for process, log in zip(processes, logs):
                    if process.pid not in serving and "serving queue" in log.read_text(encoding="utf-8", errors="replace"):
                        serving[process.pid] = process_cpu(process.pid)
                        serving_at.append(time.monotonic() - started)
                done = connection.scalar(text("SELECT count(*) FROM link_checks"))
                # The workers' connections (the bench's own one excepted), at their highest.
                held = connection.scalar(text("SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()"))
                connections = max(connections, held)
                connection.commit()
                loads.append(os.getloadavg()[0])
                if done >= expected or any(p.poll() is not None for p in processes):
                    break
                time.sleep(0.5)
        now_cpu = {pid: process_cpu(pid) for pid in serving}
        serving_cpu = (sum(now_cpu[pid][0] - cpu[0] for pid, cpu in serving.items()),
                       sum(now_cpu[pid][1] - cpu[1] for pid, cpu in serving.items()))
        if done >= expected and args.idle > 0:
            idle_cpu = idle_cpu_per_second([process.pid for process in processes], args.idle)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for watcher in spies:
            watcher.wait(timeout=60)
    wall = time.monotonic() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
    machine_cpu = cpu_busy_seconds() - busy_before
    with engine.connect() as connection:
        stats = connection.execute(text(
            "SELECT count(*), count(DISTINCT link_id), min(checked_at), max(checked_at),"
            " percentile_cont(0.1) WITHIN GROUP (ORDER BY extract(epoch FROM checked_at)),"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM checked_at)),"
            " count(*) FILTER (WHERE outcome <> 'ok') FROM link_checks")).one()
        # Checks per second from the workers' start: where the start-up goes.
        offsets = [float(x) for x in connection.scalars(text(
            "SELECT extract(epoch FROM checked_at - CAST(:start AS timestamptz)) FROM link_checks"), {"start": started_wall})]
        spans = [(last_at - first_at).total_seconds() for first_at, last_at in connection.execute(text(
            "SELECT min(c.checked_at), max(c.checked_at) FROM link_checks c JOIN links l ON l.id = c.link_id GROUP BY l.host"))]
        failed_jobs = connection.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'"))
        link_units = connection.scalar(text("SELECT count(*) FROM job_state WHERE job_id LIKE 'links:%' AND last_success_at IS NOT NULL"))
        sizes = connection.execute(text(
            "SELECT pg_database_size(current_database()), pg_total_relation_size('link_checks'),"
            " pg_total_relation_size('links'), pg_total_relation_size('blobs')")).one()
    engine.dispose()
    checks, distinct, first, last, p10, p90, not_ok = stats
    span = (last - started_wall).total_seconds() if last else float("nan")
    steady = 0.8 * checks / (p90 - p10) if checks and p90 > p10 else float("nan")
    limit = len(site.hosts or site_hosts(args)) / args.interval
    highest = max((c.highest for c in site.hosts.values()), default=0)
    errors = [log.name for log in logs if "Traceback" in log.read_text(encoding="utf-8", errors="replace")]
    return {
        "workers": workers, "checks": checks, "distinct": distinct, "not_ok": not_ok, "expected": expected,
        "wall": wall, "span": span, "rate": checks / span if span else 0.0, "steady": steady,
        "ratio": (checks / span) / limit if span else 0.0, "steady_ratio": steady / limit,
        # a links job checks up to hosts_per_job hosts in one pass (monitor.runtime.host_batch)
        "ceiling": min(limit, workers * args.concurrency * hosts_per_job(parse_config(config_data(url, list_url, args), "bench").links) / args.interval),
        "highest": highest, "served": sum(c.served for c in site.hosts.values()),
        "load": sum(loads) / len(loads) if loads else float("nan"), "load_max": max(loads, default=float("nan")),
        # A host's own pace while its unit ran, and how many hosts were being checked at once.
        "host_rate": (args.urls - 1) / (sorted(spans)[len(spans) // 2] or 1e-9) if spans else 0.0,
        "hosts_at_once": sum(spans) / span if spans and span else 0.0,
        "worker_cpu_ms": 1000 * sum(serving_cpu) / max(checks, 1), "worker_sys_ms": 1000 * serving_cpu[1] / max(checks, 1),
        "idle_ms_per_s": idle_cpu, "worker_cpu_all_ms": 1000 * worker_cpu / max(checks, 1), "machine_cpu_ms": 1000 * machine_cpu / max(checks, 1),
        "serving_at": serving_at, "first_check": min(offsets, default=float("nan")), "timeline": _per_second(offsets),
        "failed_jobs": failed_jobs, "units": link_units, "connections": connections, "db_bytes": sizes[0], "checks_bytes": sizes[1],
        "links_bytes": sizes[2], "blobs_bytes": sizes[3], "logs_with_tracebacks": errors,
    }


def spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling one worker (every thread, while it holds the GIL: CPU in Python) until it exits, as folded stacks."""
    found = shutil.which("py-spy")
    if not found:
        raise SystemExit("--profile needs py-spy on PATH (pip install py-spy)")
    return subprocess.Popen([found, "record", "--pid", str(pid), "--format", "raw", "--rate", "250", "--nolineno",
                             "--gil", "--nonblocking", "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_summary(paths: list[Path], top: int = 25) -> list[str]:
    """The functions the workers were busy in, by share of the samples: inclusive (on the stack) and self (on top)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for path in paths:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            total += int(count)
            own[frames[-1]] = own.get(frames[-1], 0) + int(count)
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + int(count)
    def rows(table: dict[str, int]) -> list[str]:
        return [f"    {100 * n / total:5.1f} %  {frame}" for frame, n in sorted(table.items(), key=lambda kv: -kv[1])[:top]]
    return [f"  {total:,} samples; inclusive:", *rows(inclusive), "  self:", *rows(own)] if total else ["  no samples"]


def _per_second(offsets: list[float]) -> list[int]:
    """How many checks were made in each second of the run, from the workers' start."""
    counts = [0] * (int(max(offsets, default=-1)) + 1)
    for offset in offsets:
        counts[max(0, int(offset))] += 1
    return counts


def process_cpu(pid: int) -> tuple[float, float]:
    """user and system CPU seconds of one live process, all its threads (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


def idle_cpu_per_second(pids: list[int], seconds: float, settle_s: float = 3.0) -> float:
    """CPU milliseconds a second of each worker with nothing due (the cost of being alive: the tick,
    polling, heartbeats, the stalled-job sweep), after ``settle_s`` for the last jobs to finish."""
    time.sleep(settle_s)
    before = {pid: sum(process_cpu(pid)) for pid in pids}
    started = time.monotonic()
    time.sleep(seconds)
    spent = sum(sum(process_cpu(pid)) - cpu for pid, cpu in before.items())
    return 1000 * spent / (time.monotonic() - started) / len(pids)


def cpu_busy_seconds() -> float:
    """CPU time the whole machine spent busy (every process: workers, PostgreSQL, the site, others)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def site_hosts(args: argparse.Namespace) -> list[str]:
    return [f"127.0.0.{n + 2}" for n in range(args.hosts)]


# --------------------------------------------------------------------------- the table

def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--urls", type=int, default=100, help="URLs per host")
    parser.add_argument("--per-host", type=int, default=2, help="links.per_host: requests in flight to one host (the cap)")
    parser.add_argument("--interval", type=float, default=0.1, help="links.per_host_interval_s: seconds between two checks of one host")
    parser.add_argument("--latency", type=float, default=0.02, help="how long the site takes to answer")
    parser.add_argument("--concurrency", type=int, default=20, help="worker.concurrency: host units one worker runs at once")
    parser.add_argument("--fleets", default="1,2,4")
    parser.add_argument("--timeout", type=float, default=900, help="give up on one fleet after this many seconds")
    parser.add_argument("--admin-url", default=os.environ.get("SESAKU_TEST_POSTGRES_URL"))
    parser.add_argument("--idle", type=float, default=10, help="then measure the idle workers' CPU for this many seconds (0: not)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (configs and worker logs)")
    parser.add_argument("--profile", action="store_true", help="sample each worker with py-spy and print where its CPU went (keeps the work folder)")
    args = parser.parse_args()
    if not args.admin_url:
        parser.error("give --admin-url or set SESAKU_TEST_POSTGRES_URL (a PostgreSQL role that may create databases)")
    if not 1 <= args.hosts <= 250:
        parser.error("1 to 250 hosts (127.0.0.2 … 127.0.0.251)")
    hosts = site_hosts(args)
    fleets = [int(n) for n in args.fleets.split(",")]
    tag = uuid.uuid4().hex[:8]
    template = f"sesaku_bench_{tag}"
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    workdir = Path(tempfile.mkdtemp(prefix="sesaku-fleet-bench-"))
    made: list[str] = []
    failures: list[str] = []
    try:
        site = start_pages(hosts, args.urls, args.latency)
        made.append(template)
        built = build_template(admin, args.admin_url, template, hosts, args)
        limit = len(hosts) / args.interval
        print(f"list: {built['rows']:,} rows ({built['bytes'] / 1e6:.1f} MB CSV) citing {built['links']:,} URLs, "
              f"through run_check (links off) in {built['seconds']:.1f} s")
        print(f"{len(hosts)} hosts × {args.urls} URLs; links.per_host {args.per_host}, links.per_host_interval_s {args.interval:g} "
              f"(politeness limit {limit:,.0f} URLs/s); site latency {args.latency * 1000:.0f} ms; worker.concurrency "
              f"{args.concurrency}; {os.cpu_count()} CPUs; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
              flush=True)
        print(f"{'workers':>7} {'checks':>7} {'wall s':>7} {'URLs/s':>7} {'steady':>7} {'of limit':>9} {'steady of limit':>16} "
              f"{'max/host':>9} {'load avg':>9} {'DB size':>9} {'B/check':>8} {'CPU ms/check':>12} {'connections':>11}", flush=True)
        rows = []
        for workers in fleets:
            name = f"sesaku_bench_{tag}_{workers}"
            made.append(name)
            create_database(admin, name, template)
            # The list ran when the template was made and is not due for a day: its URL is never fetched again.
            row = run_fleet(workers, database_url(args.admin_url, name), "http://127.0.0.1:9/list.csv", args, site, workdir)
            drop_database(admin, name)
            made.remove(name)
            rows.append(row)
            print(f"{workers:>7} {row['checks']:>7} {row['span']:>7.1f} {row['rate']:>7.0f} {row['steady']:>7.0f} "
                  f"{row['ratio']:>9.1%} {row['steady_ratio']:>16.1%} {row['highest']:>4} (≤{args.per_host}) "
                  f"{row['load']:>4.1f}/{row['load_max']:<4.1f} {mb(row['db_bytes']):>9} {row['checks_bytes'] / max(row['checks'], 1):>8.0f} "
                  f"{row['worker_cpu_ms']:>12.2f} {row['connections']:>11}",
                  flush=True)
            if row["checks"] < row["expected"]:
                failures.append(f"{workers} worker(s): {row['checks']} of {row['expected']} links checked before the timeout")
            if row["distinct"] != row["checks"]:
                failures.append(f"{workers} worker(s): {row['checks'] - row['distinct']} links checked twice")
            if row["highest"] > args.per_host:
                failures.append(f"{workers} worker(s): a host saw {row['highest']} requests at once, above the cap {args.per_host}")
            if row["failed_jobs"] or row["logs_with_tracebacks"]:
                failures.append(f"{workers} worker(s): {row['failed_jobs']} failed jobs; tracebacks in {row['logs_with_tracebacks']}")
            if row["not_ok"]:
                failures.append(f"{workers} worker(s): {row['not_ok']} checks whose outcome was not ok")
        print("wall s: from starting the workers to the last check's checked_at (startup and the first tick included); "
              "steady: between the 10th and 90th percentile of checked_at; load avg: mean/highest 1-minute load while it ran")
        for row in rows:
            print(f"  {row['workers']} worker(s): {row['units']} host units succeeded, {row['served']:,} requests served "
                  f"(checks + sibling probes), {row['not_ok']} not ok; one host checked at {row['host_rate']:.1f} URLs/s (median; "
                  f"its interval allows {1 / args.interval:g}), {row['hosts_at_once']:.1f} hosts at once on average; fleet ceiling {row['ceiling']:,.0f}/s "
                  f"(workers × concurrency × hosts a job, hosts at once, ÷ interval); CPU per check: workers {row['worker_cpu_ms']:.2f} ms while serving "
                  f"({row['worker_sys_ms']:.2f} of it in the kernel; {row['worker_cpu_all_ms']:.2f} ms with their start-up), "
                  f"whole machine {row['machine_cpu_ms']:.1f} ms; PostgreSQL connections held at most {row['connections']} "
                  f"({row['connections'] / row['workers']:.0f} a worker); link_checks {mb(row['checks_bytes'])}, "
                  f"links {mb(row['links_bytes'])}, blobs {mb(row['blobs_bytes'])}")
            print(f"    idle: a worker with nothing due spends {row['idle_ms_per_s']:.1f} ms of CPU a second "
                  f"(measured over {args.idle:g} s after the last check; worker.tick {TICK!r}, heartbeat_s {HEARTBEAT_S:g})")
            if args.profile:
                print("\n".join(profile_summary(sorted(workdir.glob(f"fleet-{row['workers']}-profile-*.txt")))))
            print(f"    start-up: serving the queue after {', '.join(f'{s:.1f}' for s in sorted(row['serving_at']))} s, "
                  f"first check after {row['first_check']:.1f} s; checks in each second: {' '.join(map(str, row['timeline']))}")
    finally:
        for name in reversed(made):
            drop_database(admin, name)
        admin.dispose()
        if args.keep or args.profile or failures:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
