"""Bombs: what a small document that inflates to 1 GiB costs to read, with the cap and without.

Each case runs ``parse_document`` in a fresh subprocess and prints its wall time, its peak
memory (the child's ``ru_maxrss``) and how it ended. "capped" is the shipped behaviour
(``http.max_bytes``, 20 MB); "uncapped" lifts the cap to 1 TB, which is what reading cost before
the cap existed. An uncapped child is stopped at --timeout seconds and --memory MB, so the
bench never takes the machine down with it.

    python bench/bombs.py                 # 1 GiB bombs, capped and uncapped
    python bench/bombs.py --size-mib 256 --capped-only
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.bombs import SHEET, pdf_bomb, understate_size, xlsx_bomb  # noqa: E402

CHILD = """
import resource, sys
from monitor.errors import ParseError
from monitor.lists.parsers import Document, parse_document
resource.setrlimit(resource.RLIMIT_AS, ({memory} << 20, {memory} << 20))
body = open({path!r}, "rb").read()
try:
    parsed = parse_document(Document(body, url={name!r}, max_bytes={cap}), {fmt!r})
    print(f"read: {{len(parsed.records)}} records")
except ParseError as exc:
    print(f"suspect: {{exc}}")
except MemoryError:
    print("MemoryError")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_case(name: str, fmt: str, body: bytes, cap: int, timeout: float, memory: int) -> tuple[float, str, str]:
    """Seconds, the child's own peak memory in MB, and how the read ended."""
    with tempfile.NamedTemporaryFile(suffix=name) as file:
        file.write(body)
        file.flush()
        code = CHILD.format(path=file.name, name=name, cap=cap, fmt=fmt, memory=memory)
        started = time.monotonic()
        try:
            done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return time.monotonic() - started, "?", f"stopped after {timeout:.0f} s"
        elapsed = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    if done.returncode or len(lines) < 2:
        return elapsed, "?", (done.stderr.strip().splitlines() or ["no output"])[-1][:110]
    return elapsed, f"{int(lines[-1]) / 1024:.0f}", lines[0][:110]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024, help="what each bomb inflates to (default 1024)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds an uncapped read may take")
    parser.add_argument("--memory", type=int, default=3072, help="MB an uncapped read may take")
    parser.add_argument("--capped-only", action="store_true")
    args = parser.parse_args()
    inflated = args.size_mib << 20
    xlsx = xlsx_bomb(inflated)
    cases = [
        ("xlsx sheet", "bomb.xlsx", "xlsx", xlsx),
        ("xlsx lying header", "bomb.xlsx", "xlsx", understate_size(xlsx, SHEET, 10_000)),
        ("pdf Flate stream", "bomb.pdf", "pdf", pdf_bomb(inflated)),
    ]
    print(f"bombs inflating to {args.size_mib} MiB; cap 20,000,000 bytes")
    print(f"{'case':<18} {'file':>10} {'mode':<9} {'time s':>8} {'peak MB':>8}  outcome")
    modes = [("capped", 20_000_000)] if args.capped_only else [("capped", 20_000_000), ("uncapped", 1 << 40)]
    for mode, cap in modes:
        for label, name, fmt, body in cases:
            elapsed, peak, outcome = run_case(name, fmt, body, cap, args.timeout, args.memory)
            print(f"{label:<18} {len(body):>10,} {mode:<9} {elapsed:>8.2f} {peak:>8}  {outcome}")


if __name__ == "__main__":
    main()
