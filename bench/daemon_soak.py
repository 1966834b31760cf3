"""Memory over many cycles of the daemon's unit of work, on loopback only.

    /work/venv/bin/python bench/daemon_soak.py [--cycles 1000] [--change-every 25] [--database URL]

Runs ``run_source_job`` (the very call the daemon's scheduler makes: run lock, job_state,
fetch → parse → match → diff → store) ``--cycles`` times against a loopback site serving
the Tama seed list. Every ``--change-every`` cycles the site publishes a revised version
(a renamed measure, a changed phone number, alternately back), so the cycles mix the
three paths a long-running daemon takes: 304 Not Modified, unchanged, and changed.
Prints the resident memory (VmRSS) at start, after a warm-up of 50 cycles, and at the end;
the target is a growth under 10 MB from the warm-up to the end.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.runtime.check import open_store  # noqa: E402
from monitor.config import parse_config  # noqa: E402
from monitor.runtime.jobs import run_source_job  # noqa: E402
from monitor.demo.site import Route, running_site  # noqa: E402

SEED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tokyo-tama-strategy2-measures.txt"
WARM_UP = 50


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def versions() -> list[bytes]:
    text = SEED.read_text(encoding="utf-8")
    revised = text.replace("多摩の魅力発信プロジェクト", "多摩の魅力発信プロジェクト2026", 1).replace("03-5320-5442", "03-5320-0000", 1)
    return [text.encode("utf-8"), revised.encode("utf-8")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--change-every", type=int, default=25)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file in a temporary folder)")
    args = parser.parse_args()
    bodies = versions()
    with tempfile.TemporaryDirectory() as folder, running_site() as site:
        site.publish("/tama.txt", Route(bodies[0], content_type="text/plain; charset=utf-8"))
        config = parse_config({
            "database": {"url": args.database or f"sqlite:///{folder}/soak.db"},
            "http": {"allow_private_addresses": True},
            "sources": [{"id": "tama", "title": "多摩のまちづくり 戦略2", "url": site.url("/tama.txt"), "format": "text-table",
                         "key_columns": ["施策", "担当部署"], "name_column": "施策", "url_columns": ["URL"], "end_date_columns": ["備考"]}],
        }, "soak")
        sessions = open_store(config)
        now = datetime(2026, 4, 1, tzinfo=timezone.utc)
        statuses: Counter[str] = Counter()
        start_rss = rss_mb()
        warm_rss = start_rss
        started = time.monotonic()
        for cycle in range(1, args.cycles + 1):
            if cycle % args.change_every == 0:
                site.publish("/tama.txt", Route(bodies[(cycle // args.change_every) % 2], content_type="text/plain; charset=utf-8"))
            run = run_source_job(config, sessions, now + timedelta(minutes=cycle), "tama")
            statuses[f"{run.status}/{getattr(run.result, 'status', '-')}"] += 1
            if cycle == WARM_UP:
                gc.collect()
                warm_rss = rss_mb()
        gc.collect()
        end_rss = rss_mb()
        took = time.monotonic() - started
    print(f"cycles: {args.cycles} in {took:.1f}s ({took / args.cycles * 1000:.1f} ms each)")
    print(f"outcomes: {dict(sorted(statuses.items()))}")
    print(f"RSS start: {start_rss:.1f} MB, after {WARM_UP} cycles: {warm_rss:.1f} MB, end: {end_rss:.1f} MB")
    growth = end_rss - warm_rss
    print(f"growth after warm-up: {growth:+.1f} MB (target < 10 MB): {'ok' if growth < 10 else 'TOO MUCH'}; from start: {end_rss - start_rss:+.1f} MB")


if __name__ == "__main__":
    main()
