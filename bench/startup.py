"""How long `sesaku-monitor` takes to start: best of N fresh processes per command line.

    python bench/startup.py                  # this checkout
    python bench/startup.py --before d8cf5d5  # and that revision beside it (a temporary git worktree)

Each command line runs as ``python -m monitor ARGS`` in a fresh interpreter, with the
checkout (or the worktree) first on ``sys.path``, so the figures compare the code and not the
installed script's wrapper. Nothing is read from a config file or a database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (("--version",), ("--help",), ("check", "--help"), ("status", "--help"))


def best_of(tree: Path, args: tuple[str, ...], repeat: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "monitor", *args], cwd=tree, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def measure(tree: Path, repeat: int) -> dict[str, float]:
    return {" ".join(args): best_of(tree, args, repeat) for args in COMMANDS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per command line (the best counts)")
    parser.add_argument("--before", metavar="REV", help="a git revision to measure beside this checkout")
    options = parser.parse_args()
    columns = {"now": measure(ROOT, options.repeat)}
    if options.before:
        with tempfile.TemporaryDirectory() as folder:
            tree = Path(folder) / "before"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), options.before], cwd=ROOT, check=True, capture_output=True)
            try:
                columns = {options.before: measure(tree, options.repeat), **columns}
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True, capture_output=True)
    print(f"{'command':16}" + "".join(f"{name:>12}" for name in columns))
    for command in columns["now"]:
        print(f"{command:16}" + "".join(f"{times[command]:>11.2f}s" for times in columns.values()))


if __name__ == "__main__":
    main()
