"""How long `sesaku-monitor` takes to start: best of N fresh processes per command line.

    python bench/startup.py                  # this checkout
    python bench/startup.py --before d8cf5d5  # and that revision beside it (a temporary git worktree)
    python bench/startup.py --config /tmp/sesaku-scale-bench/sesaku_scale_bench-postgresql.yaml --before HEAD~3

Each command line runs as ``python -m monitor ARGS`` in a fresh interpreter, with the
checkout (or the worktree) first on ``sys.path``, so the figures compare the code and not the
installed script's wrapper. The project's bytecode is compiled as an installed script finds it
(into a temporary ``PYTHONPYCACHEPREFIX``, by a first run of each command line that is not
timed), so a figure is imports and work, not compiling. Besides ``--help`` and ``--version``,
the commands that work run on a small store made for the run: one list of two measures (a
``file://`` CSV) in a SQLite database, stored once before the timing, so ``check --no-links
--no-notify`` is a run that finds it unchanged. With ``--config`` FILE, ``status`` and
``status --json`` on that file are timed too, the whole command (its cached config read, the
store's queries, the printing). Each figure is the best of N wall seconds and, beside it, the
best of N CPU seconds (user and system: a shared machine's load moves the wall clock far more
than the CPU).
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
ON_SMALL_STORE = (("check", "--no-links", "--no-notify"), ("status",), ("status", "--json"), ("sources",), ("links",), ("snapshots", "small"))
SMALL_LIST = "id,name,url\n1,Alpha,https://example.org/a\n2,Beta,https://example.org/b\n"


def small_store(folder: Path) -> str:
    """A config of one list in a SQLite database under ``folder``; the list is not stored yet."""
    (folder / "list.csv").write_text(SMALL_LIST, encoding="utf-8")
    config = folder / "config.yaml"
    config.write_text(f"database:\n  url: sqlite:///{folder / 'monitor.db'}\n"
                      f"sources:\n  - {{id: small, title: Small, url: 'file://{folder / 'list.csv'}', format: csv,"
                      f" key_columns: [id], name_column: name, url_columns: [url]}}\n", encoding="utf-8")
    return str(config)


def child_env(tree: Path, folder: Path) -> dict[str, str]:
    """The checkout first on the path, bytecode and caches written under ``folder`` (never in the checkout)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONPYCACHEPREFIX": str(folder / "pycache"), "XDG_CACHE_HOME": str(folder / "cache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def best_of(tree: Path, env: dict[str, str], args: tuple[str, ...], repeat: int) -> tuple[float, float]:
    """The best wall and the best CPU seconds of ``repeat`` fresh processes, after one untimed."""
    def one() -> None:
        subprocess.run([sys.executable, "-m", "monitor", *args], cwd=tree, env=env, check=True, capture_output=True)

    one()  # compiles the bytecode, fills the config cache and the page cache
    times, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        one()
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(times), min(cpus)


def commands(small: str, config: str | None) -> dict[str, tuple[str, ...]]:
    """Each command line by its label: the small store's without their --config, a given file's marked by it."""
    lines: dict[str, tuple[str, ...]] = {" ".join(args): args for args in COMMANDS}
    lines.update({" ".join(args): (*args, "--config", small) for args in ON_SMALL_STORE})
    if config:
        lines.update({f"{' '.join(args)} (--config)": (*args, "--config", config) for args in (("status",), ("status", "--json"))})
    return lines


def measure(tree: Path, repeat: int, config: str | None) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env, small = child_env(tree, folder), small_store(folder)
        # The baseline, untimed: a timed check is a run over the stored list.
        subprocess.run([sys.executable, "-m", "monitor", "check", "--no-links", "--no-notify", "--config", small],
                       cwd=tree, env=env, check=True, capture_output=True)
        return {label: best_of(tree, env, args, repeat) for label, args in commands(small, config).items()}


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
    print(f"{'command':32}" + "".join(f"{name + ' wall, CPU':>24}" for name in columns))
    for command in columns["now"]:
        print(f"{command:32}" + "".join(f"{times[command][0]:>15.2f}s {times[command][1]:>6.2f}s" for times in columns.values()))


if __name__ == "__main__":
    main()
