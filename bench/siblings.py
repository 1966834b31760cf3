"""One measure across lists: what finding a measure's siblings costs (store.siblings), on a big store.

    /work/venv/bin/python bench/siblings.py [--measures 100000] [--requests 200]

Builds bench/web.py's database (two lists of ``--measures``/2 measures, three versions each),
gives one measure in a hundred of the second list the name of one of the first (so those are
siblings), then times ``siblings_of`` for one measure (what /measures/{id} asks) and for a page
of 20 search hits, with migration 0010's name index and without it (dropped: as before 0010).
Prints p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import bench_web, times  # noqa: E402
from store.database import open_engine, session_factory  # noqa: E402
from store.siblings import siblings_of  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--measures", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    web = bench_web()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        web.build(path, args.measures, 100, 1)
        engine = open_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            # Odd ids are the second list's (bench/web.py): 事業201 in it takes the name 事業200 of the first, and so on.
            connection.execute(text("UPDATE measure_versions SET name = '事業' || (measure_id - 1) WHERE measure_id % 200 = 1"))
            connection.execute(text("ANALYZE"))
        sessions = session_factory(engine)
        pick = random.Random(1)
        paired = list(range(200, args.measures, 200))
        for label in ("with the name index (0010)", "without it (before 0010)"):
            with sessions.begin() as session:
                found = siblings_of(session, paired[:50])
                print(f"{label}: {sum(map(len, found.values()))} of 50 paired measures found their sibling", file=sys.stderr)
                one = times(lambda: siblings_of(session, [pick.choice(paired)]), args.requests, digits=2)
                page = times(lambda: siblings_of(session, [pick.randrange(1, args.measures) for _ in range(20)]), args.requests, digits=2)
            print(f"{label}\n  one measure page   {one}\n  20 search hits     {page}")
            with engine.begin() as connection:
                connection.execute(text("DROP INDEX IF EXISTS ix_measure_versions_name_prefix"))


if __name__ == "__main__":
    main()
