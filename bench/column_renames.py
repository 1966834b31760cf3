"""What a renamed column costs (issue 16 item 8): a big list whose edition renames two
columns (備考 → 留意事項, an end-date column, and 担当部署 → 所管部署, a key column).

    python bench/column_renames.py               # 100,000 rows, SQLite (and PostgreSQL if SESAKU_TEST_POSTGRES_URL is set)
    python bench/column_renames.py --rows 10000  # quick run

The list is served on loopback and run in process through ``run_check``: a baseline, an
ordinary re-read of the same edition (the cost every run pays: two small queries), the
edition with the renamed header (the rename found by its values: every current version
read once) and that edition again (the rename remembered). Before renames were read, the
renamed edition was ``suspect`` on every run (a configured column missing); with an end-date
column unconfigured, every row was ``changed``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.diff_scale import COLUMNS, generate, write_text  # noqa: E402
from bench.diff_store import SOURCE, _database  # noqa: E402
from monitor.config import parse_config  # noqa: E402
from monitor.demo.site import Route, running_site  # noqa: E402
from monitor.runtime.check import open_store, run_check  # noqa: E402
from store.database import open_engine, upgrade  # noqa: E402

RENAMES = {"備考": "留意事項", "担当部署": "所管部署"}


def _renamed(text: str) -> str:
    header = "\t".join(COLUMNS)
    return text.replace(header, "\t".join(RENAMES.get(c, c) for c in COLUMNS))


def _timed(run: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def bench(kind: str, rows: int, folder: Path) -> None:
    v1, _, _ = generate(rows, 20240401)
    write_text(folder / "v1.txt", v1, "合成の一覧")
    text = (folder / "v1.txt").read_text(encoding="utf-8")
    start = datetime(2026, 4, 1, tzinfo=timezone.utc)
    with _database(kind, folder) as url, running_site() as site:
        engine = open_engine(url, require_current=False)
        upgrade(engine)  # what `sesaku-monitor db upgrade` does once per PostgreSQL deployment
        engine.dispose()
        http = {"allow_private_addresses": True, "max_bytes": 200_000_000}
        config = parse_config({"database": {"url": url}, "http": http, "links": {"enabled": False},
                               "sources": [{**SOURCE, "url": site.url("/big.txt")}]}, "bench")
        sessions = open_store(config)
        steps = [("baseline", text), ("same edition re-read", text + "\n"), ("columns renamed", _renamed(text)),
                 ("renamed edition re-read", _renamed(text) + "\n")]
        print(f"{kind}, {rows:,} rows")
        for day, (label, body) in enumerate(steps):
            site.publish("/big.txt", Route(body.encode("utf-8")))
            moment = start + timedelta(days=day)
            seconds, report = _timed(lambda: run_check(config, sessions, clock=lambda: moment, links=False, notify=False))
            source = report.sources[0]  # type: ignore[attr-defined]
            said = f"{source.status}, {len(source.changed)} changed, {len(source.columns_renamed)} columns renamed"
            print(f"  {label:24} {seconds:6.2f} s   {said}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("SESAKU_TEST_POSTGRES_URL") else [])
    for kind in kinds:
        with tempfile.TemporaryDirectory() as folder:
            bench(kind, args.rows, Path(folder))


if __name__ == "__main__":
    main()
