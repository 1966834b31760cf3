"""How long `sesaku-monitor` takes to start: best of N fresh processes per command line.

    python bench/startup.py                  # this checkout
    python bench/startup.py --before d8cf5d5  # and that revision beside it (a temporary git worktree)
    python bench/startup.py --config /tmp/sesaku-scale-bench/sesaku_scale_bench-postgresql.yaml --before HEAD~3

Each command line runs as ``python -m monitor ARGS`` in a fresh interpreter, with the
checkout (or the worktree) first on ``sys.path``, so the figures compare the code and not the
installed script's wrapper. Nothing is read from a config file or a database, unless
``--config`` names one: then ``status`` and ``status --json`` on it are timed too, the whole
command (its cached config read, the store's queries, the printing). Each figure is the best
of N wall seconds and, beside it, the best of N CPU seconds (user and system: a shared
machine's load moves the wall clock far more than the CPU).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (("--version",), ("--help",), ("check", "--help"), ("status", "--help"))


def best_of(tree: Path, args: tuple[str, ...], repeat: int) -> tuple[float, float]:
    """The best wall and the best CPU seconds of ``repeat`` fresh processes."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    times, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "monitor", *args], cwd=tree, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(times), min(cpus)


def commands(config: str | None) -> list[tuple[str, ...]]:
    on_store = [("status", "--config", config), ("status", "--json", "--config", config)] if config else []
    return [*COMMANDS, *on_store]


def measure(tree: Path, repeat: int, config: str | None) -> dict[str, tuple[float, float]]:
    # The same label whichever file: the columns line up by command.
    return {" ".join(a for a in args if a not in ("--config", config)): best_of(tree, args, repeat) for args in commands(config)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per command line (the best counts)")
    parser.add_argument("--before", metavar="REV", help="a git revision to measure beside this checkout")
    parser.add_argument("--config", metavar="FILE", help="also time `status` and `status --json` on this config (e.g. bench/scale.py's)")
    options = parser.parse_args()
    config = str(Path(options.config).resolve()) if options.config else None
    columns = {"now": measure(ROOT, options.repeat, config)}
    if options.before:
        with tempfile.TemporaryDirectory() as folder:
            tree = Path(folder) / "before"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), options.before], cwd=ROOT, check=True, capture_output=True)
            try:
                columns = {options.before: measure(tree, options.repeat, config), **columns}
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True, capture_output=True)
    print(f"{'command':16}" + "".join(f"{name + ' wall, CPU':>24}" for name in columns))
    for command in columns["now"]:
        print(f"{command:16}" + "".join(f"{times[command][0]:>15.2f}s {times[command][1]:>6.2f}s" for times in columns.values()))


if __name__ == "__main__":
    main()
