"""The list page in published order: what reading a stored listing costs, on a big list.

    /work/venv/bin/python bench/listing.py [--measures 100000] [--requests 200]

Builds bench/web.py's database (two lists of ``--measures``/2 current measures each), then
stores a listing for the first list's last snapshot (its measures in a shuffled published
order, with a ``No.`` column: what store.listing writes on every applied run) and times the
whole page ``GET /sources/{id}`` (and ``/api/sources/{id}``) through a served app on loopback, then the
read model behind it in-process (the page's rows and their versions in force,
``Reader.published_rows``, the whole ``Reader.source_list`` as the page reads it, and with the counts
the JSON API adds: recent events by kind and dead links) and the whole list as the CSV export reads it, with the listing and
without it (measure-id order, as before migration 0008). Prints p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from datetime import timezone
from pathlib import Path

import httpx
from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import bench_web, times  # noqa: E402
from store.database import open_engine, session_factory  # noqa: E402
from store.listing import put_listing  # noqa: E402
from store.models import MeasureVersion, Snapshot  # noqa: E402
from web.labels import labels_for  # noqa: E402
from web.views import Reader  # noqa: E402


def _served(web, database: Path, source: str, requests: int) -> None:  # type: ignore[no-untyped-def]
    """The page as a browser gets it: ``sesaku-monitor serve`` on loopback, HTML and JSON."""
    port = web._free_port()
    config = database.with_name("config.yaml")
    config.write_text(f"database:\n  url: sqlite:///{database}\nweb:\n  port: {port}\n", encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "monitor", "serve", "--config", str(config)], stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        web._wait(base + "/", server)
        with httpx.Client(base_url=base, timeout=60) as client:
            for path in (f"/sources/{source}", f"/api/sources/{source}"):
                timing = web._percentiles(client, lambda: path, requests)
                print(f"served GET {path:<24} p50 {timing.p50:7.1f} ms  p95 {timing.p95:7.1f} ms  ({timing.size:,} bytes)")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measures", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    web = bench_web()
    source = web.SOURCES[0]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        web.build(path, args.measures, 100, 1)
        sessions = session_factory(open_engine(f"sqlite:///{path}"))
        with sessions.begin() as session:
            ids = list(session.scalars(select(MeasureVersion.measure_id).where(MeasureVersion.source_id == source, MeasureVersion.valid_to.is_(None))))
            random.Random(1).shuffle(ids)
            snapshot = session.scalars(select(Snapshot).where(Snapshot.source_id == source).order_by(Snapshot.id.desc())).first()
            put_listing(session, snapshot, ids, {"No.": [str(n + 1) for n in range(len(ids))]}, snapshot.fetched_at)
        pages = max(len(ids) // 50, 1)
        print(f"{len(ids):,} rows listed, page size 50")
        _served(web, path, source, max(args.requests // 4, 10))
        for label in ("with the listing (published order)", "without (measure-id order)"):
            with sessions() as session:
                read = Reader(session, labels_for("ja"), timezone.utc, 50)
                now = snapshot.fetched_at
                print(f"{label}:")
                print(f"  page 1, rows only {times(lambda: read.published_rows(source, None, 0, 51), args.requests)}")
                print(f"  a random page     {times(lambda: read.published_rows(source, None, random.randint(0, pages - 1) * 50, 51), args.requests)}")
                print(f"  the whole page    {times(lambda: read.source_list(source, None, 1, now, counts=False), max(args.requests // 10, 3))}")
                print(f"  with its counts   {times(lambda: read.source_list(source, None, 1, now), max(args.requests // 10, 3))}")
                print(f"  every row (export){times(lambda: read.published_rows(source, None), 3)}")
            with sessions.begin() as session:
                session.execute(update(Snapshot).values(listing_sha256=None))


if __name__ == "__main__":
    main()
