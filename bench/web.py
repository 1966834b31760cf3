"""Web view latency on a big database, ours beside Datasette, on loopback only.

    /work/venv/bin/python bench/web.py [--measures 100000] [--links 50000] [--checks 30] [--requests 200] [--only compare]

Builds a SQLite file (schema by Alembic, rows bulk-inserted through SQLAlchemy core): two
sources, ``--measures`` measures with 3 versions each (2 ``changed`` events per measure),
``--links`` links with ``--checks`` checks each (every 20th link dead, with a ``link_dead``
event), one link cited by each version. Then ``sesaku-monitor serve`` and ``datasette`` (on
the same file, read-only) run as separate processes on 127.0.0.1, and one client asks each
URL ``--requests`` times in turn (random ids where the URL has one) and prints p50/p95.

Search and export are timed beside Datasette's nearest equivalents: its ``_search`` over the
same FTS5 trigram table (``measure_search``, which migration 0004 fills), a ``name__contains``
LIKE scan, and a streamed CSV of one list's current versions (``--export-requests`` times,
since a list of 50,000 rows takes seconds). Compare and the ending pages likewise: one list between
its first and last day (every measure changed twice: the summary and first page, a random page of
the changed, the JSON's first page and a random cursor, the whole CSV streamed; ``first ms`` is
the request that classifies the list, before the server keeps it) beside the SQL a Datasette user
would write for it (versions in force on each day, joined; Datasette stops at its 1,000-row
limit, so its figure is for less work), and the measures ending within 90 days (every 10th current version
has an end date in the next two years) beside Datasette's ``end_date__lte`` filter.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode

import httpx
from sqlalchemy import Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.database import open_engine  # noqa: E402
from store.models import Event, Link, LinkCheck, Measure, MeasureLink, MeasureVersion, Snapshot, Source  # noqa: E402

T0 = datetime(2025, 4, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)
CHUNK = 20_000
SOURCES = ("bench-a", "bench-b")


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _load(engine: Engine, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        for batch in _chunks(rows):
            connection.execute(insert(model.__table__), batch)


def _measures(n: int) -> Iterator[dict[str, Any]]:
    for i in range(1, n + 1):
        source = SOURCES[i % 2]
        yield {"id": i, "source_id": source, "key": f"事業{i}|局{i % 40}", "name": f"事業{i}", "first_seen_snapshot_id": 1 + (i % 2) * 3,
               "first_seen_at": T0, "ended_snapshot_id": None, "ended_at": None, "expired_end_date": None}


def _versions(n: int) -> Iterator[dict[str, Any]]:
    for i in range(1, n + 1):
        source, base = SOURCES[i % 2], 1 + (i % 2) * 3
        for v in range(3):
            fields = {"事業名": f"事業{i}", "概要": f"市町村と連携して地域の課題を解決する取組を支援する。第{v + 1}版の説明文。", "担当": f"局{i % 40}", "電話": f"03-0000-{v:04d}"}
            yield {"id": 3 * (i - 1) + v + 1, "measure_id": i, "source_id": source, "fields": fields, "content_hash": f"{i:032d}{v:032d}", "name": f"事業{i}",
                   "end_date": _end_date(i) if v == 2 else None, "valid_from_snapshot_id": base + v, "valid_from": T0 + v * DAY,
                   "valid_to_snapshot_id": base + v + 1 if v < 2 else None, "valid_to": T0 + (v + 1) * DAY if v < 2 else None}


def _end_date(i: int) -> date | None:
    return date.today() + timedelta(days=i % 730) if i % 10 == 0 else None


def _events(n: int, links: int) -> Iterator[dict[str, Any]]:
    for v in (1, 2):
        for i in range(1, n + 1):
            yield {"created_at": T0 + v * DAY + timedelta(seconds=i), "kind": "changed", "source_id": SOURCES[i % 2], "snapshot_id": 1 + (i % 2) * 3 + v,
                   "measure_id": i, "link_id": None, "payload": {"key": f"事業{i}", "name": f"事業{i}", "fields": {"電話": {"old": f"03-0000-{v - 1:04d}", "new": f"03-0000-{v:04d}"}}}}
    for link_id in range(20, links + 1, 20):
        yield {"created_at": T0 + 3 * DAY + timedelta(seconds=link_id), "kind": "link_dead", "source_id": None, "snapshot_id": None, "measure_id": None,
               "link_id": link_id, "payload": {"url": f"https://example-{link_id % 97}.lg.jp/page/{link_id}", "outcome": "not_found", "http_status": 404, "measures": []}}


def _links(n: int, checks: int) -> Iterator[dict[str, Any]]:
    for i in range(1, n + 1):
        dead = i % 20 == 0
        last = T0 + timedelta(hours=6 * (checks - 1))
        yield {"id": i, "url": f"https://example-{i % 97}.lg.jp/page/{i}", "host": f"example-{i % 97}.lg.jp", "first_seen_at": T0, "cited": True,
               "outcome": "not_found" if dead else "ok", "http_status": 404 if dead else 200, "final_url": None, "last_checked_at": last,
               "last_ok_at": None if dead else last, "consecutive_failures": 10 if dead else 0, "failing_since": last - timedelta(hours=54) if dead else None,
               "dead_since": last - timedelta(hours=40) if dead else None, "moved_to": None, "body_sha256": None, "next_check_at": last + DAY}


def _checks(n: int, checks: int) -> Iterator[dict[str, Any]]:
    for i in range(1, n + 1):
        dead = i % 20 == 0
        for c in range(checks):
            failing = dead and c >= checks - 10
            yield {"link_id": i, "checked_at": T0 + timedelta(hours=6 * c), "outcome": "not_found" if failing else "ok", "http_status": 404 if failing else 200,
                   "final_url": None, "redirect_chain": None, "elapsed_ms": 80 + (i * 7 + c * 13) % 400, "error": None, "body_sha256": None}


def build(path: Path, measures: int, links: int, checks: int) -> None:
    engine = open_engine(f"sqlite:///{path}")
    _load(engine, Source, ({"id": s, "title": f"ベンチ一覧 {s}", "url": f"https://example.lg.jp/{s}.html", "format": "html-table", "parent_id": None,
                            "created_at": T0, "retired_at": None} for s in SOURCES))
    _load(engine, Snapshot, ({"id": 1 + k * 3 + v, "source_id": s, "fetched_at": T0 + v * DAY, "status": "baseline" if v == 0 else "changed", "record_count": measures // 2,
                              "edition": "令和7年4月1日時点"} for k, s in enumerate(SOURCES) for v in range(3)))
    steps = [(Measure, _measures(measures)), (MeasureVersion, _versions(measures)), (Link, _links(links, checks)), (LinkCheck, _checks(links, checks)),
             (MeasureLink, ({"measure_version_id": v, "link_id": 1 + (v - 1) // 3 % links} for v in range(1, 3 * measures + 1))), (Event, _events(measures, links))]
    for model, rows in steps:
        started = time.perf_counter()
        _load(engine, model, rows)
        print(f"  {model.__tablename__:<16} {time.perf_counter() - started:6.1f} s", file=sys.stderr)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


class Timing(NamedTuple):
    first: float  # the first request, before any warm-up: what a cold cache costs
    p50: float
    p95: float
    first_byte: float  # p50 of the time to the first byte of the body (a streamed export's)
    size: int


def _timed(client: httpx.Client, path: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    with client.stream("GET", path) as answer:
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {answer.status_code}")
        chunks = answer.iter_raw()
        size = len(next(chunks, b""))
        first_byte = time.perf_counter() - started
        size += sum(len(chunk) for chunk in chunks)
    return (time.perf_counter() - started) * 1000, first_byte * 1000, size


def _percentiles(client: httpx.Client, make_path: Any, requests: int) -> Timing:
    first = _timed(client, make_path())[0]
    for _ in range(min(4, requests)):
        _timed(client, make_path())
    runs = [_timed(client, make_path()) for _ in range(requests)]
    cuts = statistics.quantiles([run[0] for run in runs], n=100)
    return Timing(first, cuts[49], cuts[94], statistics.median(run[1] for run in runs), int(statistics.mean(run[2] for run in runs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measures", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=50_000)
    parser.add_argument("--checks", type=int, default=30)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--export-requests", type=int, default=5)
    parser.add_argument("--only", default="", help="time only the paths whose label holds this text, e.g. compare")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sesaku-bench-web-"))
    database = work / "bench.db"
    print(f"building {database}: {args.measures:,} measures × 3 versions, {args.links:,} links × {args.checks} checks", file=sys.stderr)
    build(database, args.measures, args.links, args.checks)
    ours, theirs = _free_port(), _free_port()
    (work / "config.yaml").write_text(f"database:\n  url: sqlite:///{database}\nweb:\n  port: {ours}\n", encoding="utf-8")
    datasette = shutil.which("datasette") or str(Path(sys.executable).with_name("datasette"))
    processes = [
        subprocess.Popen([sys.executable, "-m", "monitor", "serve", "--config", str(work / "config.yaml")], stderr=subprocess.DEVNULL),
        subprocess.Popen([datasette, "serve", "-i", str(database), "--host", "127.0.0.1", "--port", str(theirs), "--setting", "sql_time_limit_ms", "10000"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    rng = random.Random(7)
    cases = [
        ("ours", "/", lambda: "/"),
        ("ours", "/changes", lambda: "/changes"),
        ("ours", "/changes?source=…&page=20", lambda: f"/changes?source={SOURCES[0]}&page=20"),
        ("ours", "/measures/{random}", lambda: f"/measures/{rng.randint(1, args.measures)}"),
        ("ours", "/links/{random}", lambda: f"/links/{rng.randint(1, args.links)}"),
        ("ours", "/feed.atom", lambda: "/feed.atom"),
        ("ours", "/api/changes", lambda: "/api/changes"),
        ("datasette", "/bench/events (newest 50)", lambda: "/bench/events?_sort_desc=created_at&_size=50"),
        ("datasette", "/bench/events.json (newest 50)", lambda: "/bench/events.json?_sort_desc=created_at&_size=50"),
        ("datasette", "/bench/events?measure_id={random}", lambda: f"/bench/events?measure_id={rng.randint(1, args.measures)}"),
        ("datasette", "/bench/events/{random id}", lambda: f"/bench/events/{rng.randint(1, 2 * args.measures)}"),
        ("ours", "/search?q=事業{random} (FTS)", lambda: f"/search?q=事業{rng.randint(1, args.measures)}"),
        ("ours", "/api/search?q=事業{random} (FTS)", lambda: f"/api/search?q=事業{rng.randint(1, args.measures)}"),
        ("ours", "/api/search?q=市町村 (every row)", lambda: "/api/search?q=市町村"),
        ("ours", "/api/search?q=局{random} (2 chars: LIKE)", lambda: f"/api/search?q=局{rng.randint(0, 9)}"),
        ("ours", "/api/search?q=zz (2 chars, no hit)", lambda: "/api/search?q=zz"),
        ("ours", "/api/search?q=事業{random} 局 (FTS+LIKE)", lambda: f"/api/search?q=事業{rng.randint(1, args.measures)}+局"),
        ("datasette", "/bench/measure_search?_search=事業{random}", lambda: f"/bench/measure_search?_search=事業{rng.randint(1, args.measures)}"),
        ("datasette", "/bench/measure_versions?name__contains=…", lambda: f"/bench/measure_versions?name__contains=事業{rng.randint(1, args.measures)}"),
    ]
    first, last = T0.date().isoformat(), (T0 + 2 * DAY).date().isoformat()
    soon = (date.today() + timedelta(days=90)).isoformat()
    between, pages = f"from={first}&to={last}", max(1, args.measures // 2 // 200)
    in_force = "valid_from < :day and (valid_to is null or valid_to >= :day)"
    compare_sql = (f"select n.measure_id, o.fields as old, n.fields as new from "
                   f"(select * from measure_versions where source_id = '{SOURCES[0]}' and {in_force.replace(':day', repr(first + ' 23:59:59'))}) o join "
                   f"(select * from measure_versions where source_id = '{SOURCES[0]}' and {in_force.replace(':day', repr(last + ' 23:59:59'))}) n "
                   "on n.measure_id = o.measure_id where n.content_hash <> o.content_hash")
    cases += [
        ("ours", "/ending (90 days)", lambda: "/ending"),
        ("ours", "/api/ending (90 days)", lambda: "/api/ending"),
        ("datasette", "/bench/measure_versions?end_date__lte=…&valid_to__isnull=1", lambda: f"/bench/measure_versions?end_date__lte={soon}&valid_to__isnull=1&_sort=end_date"),
        # Compare: the first request classifies the whole list (the "first ms" column), later pages reuse that.
        ("ours", f"/sources/{SOURCES[0]}/compare (first → last day)", lambda: f"/sources/{SOURCES[0]}/compare?{between}"),
        ("ours", f"/sources/{SOURCES[0]}/compare?kind=changed&page={{random}}", lambda: f"/sources/{SOURCES[0]}/compare?{between}&kind=changed&page={rng.randint(1, pages)}"),
        ("ours", f"/api/sources/{SOURCES[0]}/compare", lambda: f"/api/sources/{SOURCES[0]}/compare?{between}"),
        ("ours", f"/api/sources/{SOURCES[0]}/compare?cursor={{random}}", lambda: f"/api/sources/{SOURCES[0]}/compare?{between}&cursor=changed:{2 * rng.randint(1, args.measures // 2)}"),
    ]
    exports = [
        ("ours", f"/sources/{SOURCES[0]}/compare.csv (whole, streamed)", lambda: f"/sources/{SOURCES[0]}/compare.csv?{between}"),
        ("datasette", "/bench.json?sql=(compare: versions on two days, joined)", lambda: "/bench.json?" + urlencode({"sql": compare_sql})),
        ("ours", "/calendar.ics (every end date)", lambda: "/calendar.ics"),
        ("ours", f"/sources/{SOURCES[0]}/calendar.ics", lambda: f"/sources/{SOURCES[0]}/calendar.ics"),
        ("ours", f"/sources/{SOURCES[0]}.csv ({args.measures // 2:,} rows)", lambda: f"/sources/{SOURCES[0]}.csv"),
        ("ours", f"/sources/{SOURCES[0]}.xlsx", lambda: f"/sources/{SOURCES[0]}.xlsx"),
        ("ours", f"/sources/{SOURCES[0]}.csv?as_of=(day 2)", lambda: f"/sources/{SOURCES[0]}.csv?as_of={(T0 + DAY).date().isoformat()}"),
        ("ours", "/search.csv?q=事業1 (newest 10,000 hits)", lambda: "/search.csv?q=事業1"),
        ("datasette", "/bench/measure_versions.csv?source_id=…&valid_to__isnull=1&_stream=on", lambda: f"/bench/measure_versions.csv?source_id={SOURCES[0]}&valid_to__isnull=1&_stream=on"),
    ]
    try:
        bases = {"ours": f"http://127.0.0.1:{ours}", "datasette": f"http://127.0.0.1:{theirs}"}
        _wait(bases["ours"] + "/api/sources", processes[0])
        _wait(bases["datasette"] + "/-/versions.json", processes[1])
        print(f"\n{'server':<10} {'path':<60} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'1st byte':>9} {'bytes':>10}")
        for (server, label, make_path), requests in [*((case, args.requests) for case in cases), *((case, args.export_requests) for case in exports)]:
            if args.only and args.only not in label:
                continue
            with httpx.Client(base_url=bases[server], timeout=120) as client:
                t = _percentiles(client, make_path, requests)
            print(f"{server:<10} {label:<60} {t.first:9.1f} {t.p50:8.1f} {t.p95:8.1f} {t.first_byte:9.1f} {t.size:10,}")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        if not os.environ.get("KEEP_BENCH_DB"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
