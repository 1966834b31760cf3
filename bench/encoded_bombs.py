"""Encoded bombs: what a list served with ``Content-Encoding: gzip`` (or ``gzip, gzip``) that
inflates to --size-mib costs to fetch with the shipped cap (http.max_bytes, 20 MB).

Each case runs ``fetch_document`` against a loopback server in a fresh subprocess and prints
its wall and CPU time, its peak memory (``ru_maxrss``) and how it ended. The child is held to
--memory MB (RLIMIT_AS), so a reader that inflates whole chunks ends in MemoryError instead
of taking the machine down.

    python bench/encoded_bombs.py                 # bombs of 1 GiB
    python bench/encoded_bombs.py --size-mib 256
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

from tests.fixtures.bombs import gzipped  # noqa: E402

CHILD = """
import asyncio, resource, sys, time
sys.path.insert(0, {root!r})
resource.setrlimit(resource.RLIMIT_AS, ({memory} << 20, {memory} << 20))
from monitor.config import HttpSettings
from monitor.demo.site import LoopbackSite, Route
from monitor.errors import FetchError
from monitor.lists.fetch import Trust, fetch_document
site = LoopbackSite()
site.start()
site.publish("/bomb.csv", Route(open({path!r}, "rb").read(), content_type="text/csv", headers={{"Content-Encoding": {encoding!r}}}))
settings = HttpSettings(allow_private_addresses=True, total_timeout_s=120)
started = time.process_time()
try:
    asyncio.run(fetch_document(site.url("/bomb.csv"), settings, trust=Trust.CONFIGURED))
    print("read whole")
except FetchError as exc:
    print("refused: " + str(exc).split(": ", 1)[1])
except MemoryError:
    print("MemoryError")
print(time.process_time() - started)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_case(body: bytes, encoding: str, memory: int) -> tuple[float, str, str, str]:
    with tempfile.NamedTemporaryFile(suffix=".gz") as file:
        file.write(body)
        file.flush()
        code = CHILD.format(root=str(ROOT), path=file.name, encoding=encoding, memory=memory)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
        elapsed = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    if done.returncode or len(lines) < 3:
        return elapsed, "?", "?", (done.stderr.strip().splitlines() or ["no output"])[-1][:100]
    return elapsed, f"{float(lines[-2]):.2f}", f"{int(lines[-1]) / 1024:.0f}", lines[0][:100]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024, help="what each bomb inflates to (default 1024)")
    parser.add_argument("--memory", type=int, default=2048, help="MB the fetching process may take")
    args = parser.parse_args()
    print(f"bombs inflating to {args.size_mib} MiB; cap 20,000,000 bytes; child held to {args.memory} MB")
    print(f"{'encoding':<12} {'on the wire':>12} {'wall s':>7} {'cpu s':>6} {'peak MB':>8}  outcome")
    for encoding, layers in (("gzip", 1), ("gzip, gzip", 2)):
        body = gzipped(args.size_mib << 20, layers)
        wall, cpu, peak, outcome = run_case(body, encoding, args.memory)
        print(f"{encoding:<12} {len(body):>12,} {wall:>7.2f} {cpu:>6} {peak:>8}  {outcome}")


if __name__ == "__main__":
    main()
