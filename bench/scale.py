"""Scale by design, measured (issue 15 item 3): a synthetic store of every body's lists.

    python bench/scale.py --backend postgresql          # 18,000 lists, 1,000,000 links (a fifth of 5M)
    python bench/scale.py --backend sqlite
    python bench/scale.py --backend postgresql --links 5000000 --checks 10000000   # the full size
    python bench/scale.py --backend postgresql --reuse  # measure again on the database built last time

What is built (bulk-loaded: COPY on PostgreSQL, executemany on SQLite; migrated by the
product's own Alembic migrations first):

* ``--lists`` sources (18,000), each run ``--runs`` times (30 snapshots, the newest good; one in
  fifty lists failing for its last three runs);
* ``--links`` URLs on ``--hosts`` hosts (5,000), cited by ``--links / 3`` measures (three URLs
  each), ~20 measures a list, one in ten with an older closed version;
* ``--checks`` link checks spread over the last year (the compacted history: one a day per
  link beyond 90 days), and ~10 events per list over the year;
* ``job_state`` for every source and host, each last started at a random time of the last day.

Then it prints, each timed on that store through the product's code:

* **config load**: ``load_config`` of a YAML file with every list (what every process does);
* **tick**: ``due_units`` (what is due, from config and ``job_state``) and, on PostgreSQL with the
  queue, ``queue_missing`` (the one INSERT);
* **web**: ``/`` and ``/api/sources`` (first, middle and last pages), p50/p95 over ``--requests``
  requests each, through a real ``sesaku-monitor serve`` subprocess on 127.0.0.1;
* **status**: ``read_status`` (the ``status`` command without printing; every list, then the
  default table's read of only those that need attention), and the whole
  ``sesaku-monitor status --json`` subprocess;
* **a changed list's link refresh**: five measures of one list get a new version citing new
  URLs; the ``refresh_cited`` that follows (in a transaction rolled back afterwards);
* **a digest without a table lock** (PostgreSQL): a writer thread adds events while a
  notifier's digest is built; how many it committed during the digest, and its slowest insert.

Needs SESAKU_TEST_POSTGRES_URL (or --admin-url) for PostgreSQL: a role that may create
databases; the database ``sesaku_scale_bench`` (``--name``) is kept for ``--reuse``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.scale_store import NOW, Shape, build, write_config  # noqa: E402
from monitor.config import load_config  # noqa: E402
from store.database import open_engine, session_factory, transaction  # noqa: E402

# --- measuring ------------------------------------------------------------------------------

CPU = {"last": 0.0}  # this process's CPU seconds of the last timed() call: the wall clock is shared by a busy machine


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    CPU["last"] = time.process_time() - cpu
    return time.perf_counter() - started, result


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def measure_config(path: Path) -> Any:
    # An edited config.yaml, read by the first process after the edit: no cache of these bytes yet
    # (a cache folder of this run's own; the commands started below read from it too).
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="sesaku-scale-cache-")
    seconds, config = timed(lambda: load_config(path))
    print(f"config load, first read: {seconds:.2f} s ({CPU['last']:.2f} s CPU, {load()}) for {len(config.sources):,} sources (target ≤ 2 s)")
    # What every later process pays: the same bytes come from monitor/config/yaml_cache.py's JSON.
    seconds, config = timed(lambda: load_config(path))
    print(f"config load again (cached): {seconds:.2f} s ({CPU['last']:.2f} s CPU, {load()}) (target ≤ 2 s)")
    return config


def measure_tick(config: Any) -> None:
    """A worker's whole tick, what is due (``due_units``) then queueing it (``queue_missing``), in
    three cases: its first (the loaded configuration frozen out of the garbage collector, as
    `run_worker`) into an empty queue; a later one with all of it still waiting (each tick sends it
    again); and everything due at once where a few jobs were queued before (the steady state, then an
    outage or a start after every job ran): the queue's connections have planned their checks on a
    queue of a few jobs."""
    import gc

    from monitor.runtime.worker import due_units

    gc.freeze()
    sessions = session_factory(open_engine(config.database.url))
    # An hour on: ~1/24 of the links are due again (each was checked in the day before NOW).
    seconds, units = timed(lambda: due_units(config, sessions, NOW + timedelta(hours=1)))
    first = (seconds, CPU["last"])
    print(f"tick: due_units {seconds:.2f} s ({CPU['last']:.2f} s CPU, {load()}), {len(units):,} units due, a process's first (target ≤ 1 s for the whole tick)")
    seconds, units = timed(lambda: due_units(config, sessions, NOW + timedelta(hours=1)))
    later = (seconds, CPU["last"])
    print(f"tick: due_units again {seconds:.2f} s ({CPU['last']:.2f} s CPU, {load()})")
    if not config.database.url.startswith("postgresql"):
        return
    import asyncio

    from monitor.runtime.worker import QUEUE_CONNECTIONS, build_app, queue_missing

    async def queue() -> list[tuple[float, float, int]]:
        app = build_app(config, sessions)
        async with app.open_async():
            try:
                _empty_queue(config)
                empty = await _queued(app, units)
                waiting = await _queued(app, units)
                _empty_queue(config)
                for n in range(QUEUE_CONNECTIONS):  # each of the pool's connections queues a few (psycopg hands them out in turn)
                    await queue_missing(app.connector, units[n * 100:(n + 1) * 100])
                return [empty, waiting, await _queued(app, units)]
            finally:
                _empty_queue(config)

    cases = zip(("a first tick, into an empty queue", "a later tick, all of them still waiting",
                 f"a later tick, all due where {QUEUE_CONNECTIONS * 100} jobs were queued before"),
                (first, later, later), asyncio.run(queue()))
    for case, (due_s, due_cpu), (queue_s, server_cpu, queued) in cases:
        print(f"tick, whole: {due_s + queue_s:.2f} s, {case} (due_units {due_s:.2f} s, {due_cpu:.2f} s CPU; queue_missing {queue_s:.2f} s, "
              f"{server_cpu:.2f} s of PostgreSQL's CPU, {queued:,} queued; {load()}) (target ≤ 1 s)")


def _empty_queue(config: Any) -> None:
    """No job, as autovacuum leaves a fleet's queue whose jobs all ran (PostgreSQL plans on the
    table's size: a table of dead rows is planned as a full one)."""
    import psycopg

    from bench.queue_jobs import empty_queue
    from monitor.runtime.worker import queue_conninfo

    with psycopg.connect(queue_conninfo(config.database.url), autocommit=True) as connection:
        empty_queue(connection)


async def _queued(app: Any, units: list[Any]) -> tuple[float, float, int]:
    """``queue_missing``'s wall seconds, the CPU seconds of the database's processes meanwhile (a local
    server; the machine's other databases count too), and how many it queued."""
    from monitor.runtime.worker import queue_missing

    before = _postgres_cpu()
    started = time.perf_counter()
    queued = await queue_missing(app.connector, units)
    seconds, after = time.perf_counter() - started, _postgres_cpu()
    return seconds, sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items()), queued


def _postgres_cpu() -> dict[str, float]:
    """Each postgres process on this machine: its CPU seconds so far (one that exits between two
    looks drops out of both, not out of the sum)."""
    from bench.queue_jobs import process_cpu

    seconds = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, cpu = process_cpu(stat)
        except OSError:
            continue  # gone meanwhile
        if name == "postgres":
            seconds[stat.parent.name] = cpu
    return seconds


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure_web(path: Path, port: int, requests: int, timeout_s: float) -> None:
    server = subprocess.Popen(["sesaku-monitor", "serve", "--config", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=timeout_s) as client:
            _wait_up(client, server)
            for name, paths in _web_paths(client).items():
                _time_paths(client, name, paths, requests)
    finally:
        server.kill()  # a request it is still answering would keep it past a terminate
        server.wait(30)


def _wait_up(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 600  # serve loads the whole config first
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"serve exited: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            client.get("/api/openapi.json")
            return
        except httpx.TransportError:
            time.sleep(0.2)
    sys.exit("serve did not answer within 600 s")


def _web_paths(client: httpx.Client) -> dict[str, list[str]]:
    """The first, a middle and the last page of each, as the pages' own links find them."""
    try:
        body = client.get("/api/sources").json()
    except httpx.TimeoutException:
        print(f"/api/sources: no answer within the {client.timeout.read} s timeout (every list in one answer)")
        return {}
    if isinstance(body, list):  # before pagination: one answer held every source
        return {"/": ["/"], "/api/sources": ["/api/sources"]}
    pages = -(-body["total"] // body["limit"])
    api = ["/api/sources", f"/api/sources?page={max(1, pages // 2)}", f"/api/sources?page={pages}"]
    cursor = body.get("next_cursor")
    if cursor:
        api.append(f"/api/sources?cursor={cursor}")
    return {"/": ["/", f"/?page={max(1, pages // 2)}", f"/?page={pages}"], "/api/sources": api}


def _time_paths(client: httpx.Client, name: str, paths: list[str], requests: int) -> None:
    times: list[float] = []
    for n in range(requests):
        target = paths[n % len(paths)]
        try:
            seconds, response = timed(lambda: client.get(target))
        except httpx.TimeoutException:
            print(f"{name}: {target} took longer than the {client.timeout.read} s timeout")
            return
        if response.status_code != 200:
            sys.exit(f"{target}: HTTP {response.status_code}: {response.text[:200]}")
        times.append(seconds)
    print(f"{name}: p50 {statistics.median(times) * 1000:.0f} ms, p95 {_percentile(times, 0.95) * 1000:.0f} ms over {len(times)} requests "
          f"of {', '.join(paths)}, {len(response.content):,} bytes, {load()} (target p95 ≤ 300 ms)")


def measure_status(config: Any, path: Path) -> None:
    import gc

    from monitor.runtime.status import read_status

    gc.freeze()  # the command runs with the collector off (monitor.cli.daemon.status): no full passes either way
    engine = open_engine(config.database.url)
    seconds, status = timed(lambda: read_status(config, engine, NOW))
    failing = sum(1 for s in status.sources if s.consecutive_failures)
    print(f"status: read_status {seconds:.2f} s ({CPU['last']:.2f} s CPU, {load()}), {len(status.sources):,} sources, {failing} failing (target ≤ 1 s)")
    seconds, status = timed(lambda: read_status(config, engine, NOW))
    print(f"status: read_status again {seconds:.2f} s ({CPU['last']:.2f} s CPU, {load()})")
    # The default table's read: only the lists that need attention read whole, the rest counted.
    seconds, status = timed(lambda: read_status(config, engine, NOW, every=False))
    print(f"status: read_status for the default table {seconds:.2f} s ({CPU['last']:.2f} s CPU, {load()}), {len(status.sources):,} read whole")
    # The whole command, as a user starts it (target ≤ 1 s for the default and --json): best of three
    # (wall and CPU apart), reading the view measure_config's full load kept (monitor/config_view.py).
    from monitor.config_view import read_view

    print(f"status: config read from {'the checked view' if read_view(path) else 'a full load (no view kept)'}")
    # The installed script, and the interpreter alone: a pyenv shim (a bash script) before it was 0.2-0.4 s at load 3.
    for name, launcher in (("sesaku-monitor", ["sesaku-monitor"]), ("python -m monitor", [sys.executable, "-m", "monitor"])):
        for flags in (["--json"], [], ["--all"]):
            runs = [timed(lambda: _child_cpu(lambda: subprocess.run([*launcher, "status", *flags, "--config", str(path)], capture_output=True)))
                    for _ in range(3)]
            seconds, cpu, done = min(wall for wall, _ in runs), min(cpu for _, (cpu, _) in runs), runs[-1][1][1]
            lines = done.stdout.count(b"\n")
            print(f"status: `{name} status {' '.join(flags)}` {seconds:.2f} s in all ({cpu:.2f} s CPU, best of 3, {load()}; "
                  f"exit {done.returncode}, {len(done.stdout):,} bytes, {lines:,} lines)")


def _child_cpu(work: Callable[[], Any]) -> tuple[float, Any]:
    """The CPU seconds (user and system) of the subprocesses ``work`` ran and waited for: the
    wall clock of a loaded machine says more about the others than about the command."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = work()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, result


def measure_refresh(config: Any, shape: Shape) -> None:
    """Five measures of one list get a new version citing new URLs; then the refresh, timed (a
    process's first, then another list's); then the daily reconcile of every link's mark."""
    from store.links import reconcile_cited

    sessions = session_factory(open_engine(config.database.url))
    firsts = [_refresh_once(sessions, shape, shape.lists // 2 + n) for n in range(2)]
    print(f"link refresh after a changed list (5 measures, {shape.links:,} links): {firsts[0] * 1000:.0f} ms, another list {firsts[1] * 1000:.0f} ms (target ≤ 50 ms)")
    with sessions() as session:
        seconds, (cited, uncited) = timed(lambda: reconcile_cited(session, NOW))
        session.rollback()
    print(f"citations reconcile (the daily job, {shape.links:,} links): {seconds:.2f} s ({CPU['last']:.2f} s CPU, {load()}), "
          f"{cited} cited again, {uncited:,} uncited (rolled back)")


def _refresh_once(sessions: Any, shape: Shape, n: int) -> float:
    import inspect

    from store.links import cite_links, refresh_cited
    from store.models import MeasureVersion, Snapshot

    with sessions() as session:
        snapshot = Snapshot(source_id=shape.source_id(n), fetched_at=NOW, status="changed")
        session.add(snapshot)
        session.flush()
        opened = []
        for m in range(n * shape.per_list + 1, n * shape.per_list + 1 + min(5, shape.per_list)):
            old = session.get(MeasureVersion, m)
            assert old is not None
            old.valid_to, old.valid_to_snapshot_id = NOW, snapshot.id
            new = MeasureVersion(measure_id=m, source_id=old.source_id, fields=old.fields, content_hash="f" * 64, name=old.name,
                                 valid_from_snapshot_id=snapshot.id, valid_from=NOW)
            session.add(new)
            opened.append(new)
        session.flush()
        cite_links(session, [(v.id, [f"https://new.example.lg.jp/{v.id}/{j}" for j in range(3)]) for v in opened], NOW)
        session.flush()
        # Before it was incremental, refresh_cited(session) looked at every cited link.
        incremental = len(inspect.signature(refresh_cited).parameters) > 1
        refresh: Callable[[], Any] = (lambda: refresh_cited(session, snapshot)) if incremental else (lambda: refresh_cited(session))  # type: ignore[call-arg]
        seconds, _ = timed(refresh)
        session.rollback()
    return seconds


def measure_digest(config: Any) -> None:
    """Events written by another transaction while a digest reads, and how long each insert waited."""
    if not config.database.url.startswith("postgresql"):
        return
    from notifiers.outbox import deliver_notifier, start_cursors
    from store.models import Event

    sessions = session_factory(open_engine(config.database.url))
    stop = threading.Event()
    waits: list[float] = []
    with transaction(sessions) as session:
        first_new = (session.scalar(text("SELECT max(id) FROM events")) or 0) + 1
    start_cursors(config, sessions, NOW)  # the digest holds what is written from now on, not the year before

    def writer() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            with transaction(sessions) as session:
                session.add(Event(created_at=NOW, kind="changed", source_id="body0000-list0", payload={"measure_id": 1}))
            waits.append(time.perf_counter() - started)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seconds, _ = timed(lambda: deliver_notifier(config, sessions, NOW, "bench"))
    except Exception as exc:  # the webhook at 127.0.0.1:9 refuses: the digest was written to the outbox first
        seconds = -1.0
        print(f"digest: {type(exc).__name__}: {exc}")
    stop.set()
    thread.join()
    with transaction(sessions) as session:
        sent = session.scalar(text("SELECT coalesce(sum(event_count), 0) FROM deliveries WHERE notifier_id = 'bench'"))
        # The bench's own events and digests go, so that --reuse measures the same store again.
        session.execute(text("DELETE FROM events WHERE id >= :first"), {"first": first_new})
        session.execute(text("DELETE FROM deliveries"))
        session.execute(text("DELETE FROM notifier_cursors"))
    print(f"digest: {seconds:.2f} s, {sent} events in its deliveries, while another transaction committed {len(waits)} events "
          f"one by one, slowest insert {max(waits) * 1000:.0f} ms (no table lock)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--admin-url", default=None)
    parser.add_argument("--lists", type=int, default=18_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--hosts", type=int, default=5_000)
    parser.add_argument("--checks", type=int, default=2_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--port", type=int, default=18765, help="where the bench's `sesaku-monitor serve` listens on 127.0.0.1")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a web request counts as too slow to time")
    parser.add_argument("--name", default="sesaku_scale_bench", help="the database (PostgreSQL) or file (SQLite) name")
    parser.add_argument("--reuse", action="store_true", help="measure the database built by the last run with these options")
    parser.add_argument("--only", default="config,tick,web,status,refresh,digest")
    args = parser.parse_args()
    shape = Shape(args)
    print(f"{args.backend}: {shape.lists:,} lists × {shape.runs} runs, {shape.measures:,} measures, {shape.links:,} links on "
          f"{shape.hosts:,} hosts, {shape.checks:,} checks over a year", flush=True)
    only = set(args.only.split(","))
    # The config alone needs no store: the same file, naming a database never opened.
    url = build(args, shape) if only != {"config"} else "sqlite:///unbuilt.db"
    path = write_config(url, shape, args.name, args.port)
    config = measure_config(path)
    if "tick" in only:
        measure_tick(config)
    if "web" in only:
        measure_web(path, args.port, args.requests, args.timeout)
    if "status" in only:
        measure_status(config, path)
    if "refresh" in only:
        measure_refresh(config, shape)
    if "digest" in only:
        measure_digest(config)


if __name__ == "__main__":
    main()
