"""The synthetic store of ``bench/scale.py``: its shape, its rows, and how they are bulk-loaded."""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store.database import open_engine, upgrade

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
YEAR = timedelta(days=365)
WORK = Path(tempfile.gettempdir()) / "sesaku-scale-bench"
OUTCOMES = ["ok"] * 90 + ["redirected"] * 5 + ["not_found"] * 3 + ["error"] * 2
KINDS = ["changed"] * 5 + ["added", "ended", "renamed", "link_dead", "link_recovered"]


def iso(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


def source_rows(lists: int) -> Iterator[tuple[Any, ...]]:
    for n in range(lists):
        yield (f"body{n // 10:04d}-list{n % 10}", f"施策一覧 {n}", f"http://127.0.0.1:9/lists/{n}.csv", "csv", None, iso(NOW - YEAR), None)


def snapshot_rows(lists: int, runs: int) -> Iterator[tuple[Any, ...]]:
    """``runs`` snapshots per list, a day apart, the newest at most a day old; ids 1..lists*runs."""
    for n in range(lists):
        failing = n % 50 == 0
        for r in range(runs):
            newest = r == runs - 1
            status = "failed" if failing and r >= runs - 3 else ("changed" if r % 10 == 0 else "unchanged")
            fetched = NOW - timedelta(days=runs - 1 - r, minutes=n % 1440)
            edition = "令和8年4月1日時点" if r == 0 else None
            yield (n * runs + r + 1, f"body{n // 10:04d}-list{n % 10}", iso(fetched), status, 200 if status != "failed" else None,
                   20 if status != "failed" else None, edition, "connection refused" if status == "failed" and newest else None)


class Shape:
    """How many of each row, derived from the options (one place, so build and measure agree)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.lists, self.runs, self.links, self.hosts, self.checks = args.lists, args.runs, args.links, args.hosts, args.checks
        self.measures = max(self.lists, self.links // 3)
        self.per_list = max(1, self.measures // self.lists)
        self.measures = self.per_list * self.lists

    def source_id(self, n: int) -> str:
        return f"body{n // 10:04d}-list{n % 10}"

    def first_snapshot(self, n: int) -> int:
        return n * self.runs + 1

    def last_snapshot(self, n: int) -> int:
        return n * self.runs + self.runs


def measure_rows(shape: Shape) -> Iterator[tuple[Any, ...]]:
    for m in range(shape.measures):
        n = m // shape.per_list
        yield (m + 1, shape.source_id(n), f"施策{m}", f"施策{m}", shape.first_snapshot(n), iso(NOW - YEAR))


def version_rows(shape: Shape) -> Iterator[tuple[Any, ...]]:
    """Every measure's open version (ids 1..measures); one in ten also an older, closed one."""
    vid = shape.measures
    for m in range(shape.measures):
        n = m // shape.per_list
        fields = json.dumps({"施策": f"施策{m}", "担当": f"局{m % 40}", "概要": f"概要 {m}"}, ensure_ascii=False)
        middle = shape.first_snapshot(n) + shape.runs // 2
        yield (m + 1, m + 1, shape.source_id(n), fields, f"{m:064x}", f"施策{m}", None, middle, iso(NOW - YEAR / 2), None, None)
        if m % 10 == 0:
            vid += 1
            yield (vid, m + 1, shape.source_id(n), fields, f"{vid:064x}", f"施策{m}", None, shape.first_snapshot(n), iso(NOW - YEAR), middle, iso(NOW - YEAR / 2))


def link_rows(shape: Shape, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for k in range(shape.links):
        host = f"www.city{k % shape.hosts}.lg.jp"
        outcome = rng.choice(OUTCOMES)
        failing = outcome in ("not_found", "error")
        dead = outcome == "not_found" and k % 3 == 0
        checked = NOW - timedelta(seconds=rng.randrange(86400))
        yield (k + 1, f"https://{host}/page/{k}.html", host, iso(NOW - YEAR), True, outcome, 404 if failing else 200,
               iso(checked), None if failing else iso(checked), 2 if failing else 0,
               iso(checked - timedelta(days=3)) if failing else None, iso(checked - timedelta(days=2)) if dead else None,
               iso(checked + timedelta(hours=24)))


def citation_rows(shape: Shape) -> Iterator[tuple[int, int]]:
    """Measure m's open version cites links 3m+1..3m+3 (the closed ones cite the first of them)."""
    for m in range(shape.measures):
        for j in range(3):
            k = 3 * m + j + 1
            if k <= shape.links:
                yield (m + 1, k)


def closed_citation_rows(shape: Shape) -> Iterator[tuple[int, int]]:
    vid = shape.measures
    for m in range(shape.measures):
        if m % 10 == 0:
            vid += 1
            if 3 * m + 1 <= shape.links:
                yield (vid, 3 * m + 1)


def check_rows(shape: Shape, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for c in range(shape.checks):
        outcome = rng.choice(OUTCOMES)
        yield (c + 1, rng.randrange(shape.links) + 1, iso(NOW - timedelta(seconds=rng.randrange(int(YEAR.total_seconds())))),
               outcome, 200 if outcome in ("ok", "redirected") else 404, rng.randrange(50, 900))


def event_rows(shape: Shape, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for e in range(shape.lists * 10):
        n = rng.randrange(shape.lists)
        kind = rng.choice(KINDS)
        created = NOW - timedelta(seconds=rng.randrange(int(YEAR.total_seconds())))
        m = n * shape.per_list + 1
        yield (e + 1, iso(created), kind, shape.source_id(n), shape.last_snapshot(n), m, json.dumps({"measure_id": m, "key": f"施策{m}", "name": f"施策{m}"}, ensure_ascii=False))


def job_rows(shape: Shape, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for n in range(shape.lists):
        started = NOW - timedelta(seconds=rng.randrange(86400))
        yield (f"source:{shape.source_id(n)}", iso(started), iso(started), None, None)
    for h in range(shape.hosts):
        started = NOW - timedelta(seconds=rng.randrange(3600))
        yield (f"links:www.city{h}.lg.jp", iso(started), iso(started), None, None)


TABLES: list[tuple[str, str, Callable[[Shape, random.Random], Iterable[tuple[Any, ...]]]]] = [
    ("sources", "id, title, url, format, parent_id, created_at, retired_at", lambda s, r: source_rows(s.lists)),
    ("snapshots", "id, source_id, fetched_at, status, http_status, record_count, edition, error", lambda s, r: snapshot_rows(s.lists, s.runs)),
    ("measures", "id, source_id, key, name, first_seen_snapshot_id, first_seen_at", lambda s, r: measure_rows(s)),
    ("measure_versions", "id, measure_id, source_id, fields, content_hash, name, end_date, valid_from_snapshot_id, valid_from, valid_to_snapshot_id, valid_to", lambda s, r: version_rows(s)),
    ("links", "id, url, host, first_seen_at, cited, outcome, http_status, last_checked_at, last_ok_at, consecutive_failures, failing_since, dead_since, next_check_at", link_rows),
    ("measure_links", "measure_version_id, link_id", lambda s, r: citation_rows(s)),
    ("measure_links", "measure_version_id, link_id", lambda s, r: closed_citation_rows(s)),
    ("link_checks", "id, link_id, checked_at, outcome, http_status, elapsed_ms", check_rows),
    ("events", "id, created_at, kind, source_id, snapshot_id, measure_id, payload", event_rows),
    ("job_state", "job_id, last_started_at, last_success_at, last_error, failing_since", job_rows),
]
SEQUENCES = ["snapshots", "measures", "measure_versions", "links", "link_checks", "events"]


def _copy_postgres(url: str, shape: Shape) -> None:
    import psycopg

    rng = random.Random(15)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        for table, columns, rows in TABLES:
            started = time.perf_counter()
            count = 0
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows(shape, rng):
                    copy.write_row(row)
                    count += 1
            print(f"  {table}: {count:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        for table in SEQUENCES:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("ANALYZE")


def _load_sqlite(path: Path, shape: Shape) -> None:
    rng = random.Random(15)
    connection = sqlite3.connect(path)
    try:
        for table, columns, rows in TABLES:
            started = time.perf_counter()
            marks = ", ".join("?" * len(columns.split(",")))
            cursor = connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows(shape, rng))
            connection.commit()
            print(f"  {table}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def build(args: argparse.Namespace, shape: Shape) -> str:
    """The database URL, built now unless ``--reuse`` finds it."""
    WORK.mkdir(exist_ok=True)
    if args.backend == "sqlite":
        path = WORK / f"{args.name}.db"
        url = f"sqlite:///{path}"
        if args.reuse and path.exists():
            return url
        path.unlink(missing_ok=True)
        _migrate(url)
        started = time.perf_counter()
        _load_sqlite(path, shape)
    else:
        admin_url = args.admin_url or os.environ.get("SESAKU_TEST_POSTGRES_URL")
        if not admin_url:
            sys.exit("PostgreSQL needs --admin-url or SESAKU_TEST_POSTGRES_URL")
        url = make_url(admin_url).set(database=args.name).render_as_string(hide_password=False)
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": args.name})
            if args.reuse and exists:
                return url
            connection.execute(text(f'DROP DATABASE IF EXISTS "{args.name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{args.name}"'))
        admin.dispose()
        _migrate(url)
        from monitor.runtime.worker import apply_queue_schema

        apply_queue_schema(url)
        started = time.perf_counter()
        _copy_postgres(url, shape)
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def _migrate(url: str) -> None:
    engine = open_engine(url, require_current=False)
    upgrade(engine)
    engine.dispose()


def write_config(url: str, shape: Shape, name: str, port: int) -> Path:
    sources = [{"id": shape.source_id(n), "title": f"施策一覧 {n}", "url": f"http://127.0.0.1:9/lists/{n}.csv", "format": "csv",
                "key_columns": ["施策"], "name_column": "施策"} for n in range(shape.lists)]
    data = {
        "database": {"url": url}, "http": {"allow_private_addresses": True},
        "web": {"host": "127.0.0.1", "port": port, "page_size": 50},
        "notifiers": [{"id": "bench", "type": "webhook", "options": {"url": "http://127.0.0.1:9/hook", "preset": "slack"}}],
        "sources": sources,
    }
    path = WORK / f"{name}-{make_url(url).get_backend_name()}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
