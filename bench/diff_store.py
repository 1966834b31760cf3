"""The whole ``check`` of one big list, baseline then a run, on SQLite and PostgreSQL (issue 15).

``diff_scale.py --store`` calls :func:`run_store`: the two generated versions are served by a
loopback HTTP site, and a real ``sesaku-monitor check --no-links --no-notify --json``
subprocess runs against a fresh database, once with version 1 published (the baseline), once
with version 2 (a run: a few % of rows added, removed, edited, renamed); between them ``db index``
(timed too) puts the baseline's versions into the search index, as a daemon's or a worker's
job search:index does after a big run. Each subprocess is
timed from start to exit (interpreter start and imports included, with the bytecode an installed
``check`` has: a copy of the project's packages in the workdir, compiled untimed first); its peak RSS is its own
VmHWM, written at exit: unlike ``ru_maxrss`` (which exec carries over from the forking parent,
so a child would start at this process's size) it belongs to the child's address space alone.
The run's report is judged against the generator's truth by measure key: each kind's keys
found of those expected, and those reported that should not be (a speed-up must keep it exact).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ENV = "SESAKU_TEST_POSTGRES_URL"

# Targets of issue 15 item 6, and git-history's figures for the same two versions (from the issue).
TARGETS = {"baseline": (8.0, None), "run": (3.0, 300.0)}
GIT_HISTORY = "git-history (issue 15): ~770 s, ~410 MB for the same two versions"

SOURCE = {
    "id": "big", "title": "合成 100,000 行", "format": "text-table",
    "key_columns": ["施策", "担当部署"], "name_column": "施策", "url_columns": ["URL"], "end_date_columns": ["備考"],
}


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        for old in folder.glob("bench.db*"):  # a kept --workdir: start from an empty database again
            old.unlink()
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    from sqlalchemy import create_engine, make_url, text

    admin_url = os.environ[POSTGRES_ENV]
    name = f"sesaku_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _write_config(path: Path, database_url: str, list_url: str) -> None:
    config = {
        "database": {"url": database_url},
        "http": {"allow_private_addresses": True, "max_bytes": 200_000_000},
        "links": {"enabled": False},
        "sources": [{**SOURCE, "url": list_url}],
    }
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")  # JSON is YAML


# The console script's own entry point, with the process's VmHWM written to $PEAK_FILE at exit.
LAUNCHER = """
import atexit, os, sys
def peak():
    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]
    if 'PEAK_FILE' in os.environ:
        open(os.environ['PEAK_FILE'], 'w').write(hwm.split()[1])
atexit.register(peak)
sys.argv[0] = 'sesaku-monitor'
from monitor.cli import main
main()
"""


def _command(*args: str, profile: Path | None = None) -> list[str]:
    if profile is None:
        return [sys.executable, "-c", LAUNCHER, *args]
    # cProfile runs a script file, not -c: the launcher is written beside the profile.
    launcher = profile.with_suffix(".py")
    launcher.write_text(LAUNCHER, encoding="utf-8")
    return [sys.executable, "-m", "cProfile", "-o", str(profile), str(launcher), *args]


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _installed(workdir: Path) -> Path:
    """A copy of the project's packages in the workdir, where the children run from: they keep
    their bytecode beside it, as an installed `check` finds its own compiled, where
    PYTHONDONTWRITEBYTECODE would compile every one of the project's modules at each start
    (0.1-0.2 s of a run); the libraries' bytecode is the one installed with them."""
    code = workdir / "installed"
    shutil.rmtree(code, ignore_errors=True)
    for package in ("monitor", "store", "notifiers"):
        shutil.copytree(ROOT / package, code / package, ignore=shutil.ignore_patterns("__pycache__"))
    return code


def _installed_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _timed(cmd: list[str], folder: Path, code: Path) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS in MB (the child's own) and stdout of one subprocess."""
    peak_file = folder / "peak-kb"
    start, cpu = time.perf_counter(), _cpu_of_children()
    done = subprocess.run(cmd, cwd=code, stdout=subprocess.PIPE, env={**_installed_env(), "PEAK_FILE": str(peak_file)})
    took, cpu = time.perf_counter() - start, _cpu_of_children() - cpu
    if done.returncode:
        sys.exit(f"sesaku-monitor {' '.join(cmd[-6:])} failed (exit {done.returncode})")
    return took, cpu, int(peak_file.read_text()) / 1024, done.stdout.decode("utf-8")


def _counts(report_json: str) -> str:
    source = json.loads(report_json)["sources"][0]
    parts = [f"{source['status']} {source['records']:,} rows"]
    parts += [f"{len(source[k])} {k}" for k in ("added", "ended", "changed", "renamed") if source.get(k)]
    return ", ".join(parts)


def expected_keys(v1: list[dict[str, str]], v2: list[dict[str, str]], truth: dict) -> dict[str, set[str]]:
    """The measure keys a run should report, kind by kind, from the generator's truth (as ``key_columns`` normalised)."""
    from monitor.lists.identity import KEY_SEPARATOR
    from monitor.lists.records import normalize_cell

    def key(row: dict[str, str]) -> str:
        return KEY_SEPARATOR.join(normalize_cell(row[column]) for column in SOURCE["key_columns"])

    old, new = {row["id"]: row for row in v1}, {row["id"]: row for row in v2}
    return {"added": {key(new[i]) for i in truth["added"]}, "ended": {key(old[i]) for i in truth["removed"]},
            "changed": {key(new[i]) for i in truth["changed"]}, "renamed": {key(new[i]) for i in truth["renamed"]}}


def _judged(report_json: str, expected: dict[str, set[str]]) -> str:
    """Each kind's reported keys against the truth: found of expected, and reported wrongly."""
    source = json.loads(report_json)["sources"][0]
    parts = []
    for kind, keys in expected.items():
        found = {entry["key"] for entry in source.get(kind, [])}
        parts.append(f"{kind} {len(found & keys)}/{len(keys)} (+{len(found - keys)} wrong)")
    return "vs truth: " + ", ".join(parts)


def _one_backend(kind: str, workdir: Path, profile: bool, expected: dict[str, set[str]] | None) -> list[tuple[str, float, float, float, str]]:
    from monitor.demo.site import Route, running_site

    results = []
    folder = workdir / kind
    folder.mkdir(exist_ok=True)
    code = _installed(workdir)
    with running_site() as site, _database(kind, folder) as url:
        config = folder / "config.yaml"
        _write_config(config, url, site.url("/big.txt"))
        if kind != "sqlite":
            subprocess.run(_command("db", "upgrade", "--config", str(config)), cwd=code, check=True, stdout=subprocess.DEVNULL)
        # Untimed: the project's modules compiled first, as an installed `check` finds them.
        subprocess.run([sys.executable, "-m", "compileall", "-q", *(str(code / p) for p in ("monitor", "store", "notifiers"))], check=True, stdout=subprocess.DEVNULL, env=_installed_env())
        for phase, name in (("baseline", "v1.txt"), ("run", "v2.txt")):
            site.publish("/big.txt", Route((workdir / name).read_bytes(), content_type="text/plain; charset=utf-8"))
            stats = folder / f"{phase}.prof" if profile else None
            took, cpu, peak, out = _timed(_command("check", "--config", str(config), "--no-links", "--no-notify", "--json", profile=stats), folder, code)
            counts = _counts(out) + (f"; {_judged(out, expected)}" if expected and phase == "run" else "")
            results.append((phase, took, cpu, peak, counts))
            if phase == "baseline":  # what the daemon's search:index then does, before the next run
                took, cpu, peak, out = _timed(_command("db", "index", "--config", str(config)), folder, code)
                results.append(("db index", took, cpu, peak, out.strip()))
            if stats is not None:
                import pstats
                print(f"--- cProfile of the {kind} {phase} (tottime)", file=sys.stderr)
                pstats.Stats(str(stats), stream=sys.stderr).sort_stats("tottime").print_stats(25)
    return results


def _verdict(phase: str, took: float, peak: float) -> str:
    if phase not in TARGETS:
        return "(after the run: no target)"
    limit_s, limit_mb = TARGETS[phase]
    met = took <= limit_s and (limit_mb is None or peak <= limit_mb)
    return f"≤{limit_s:.0f} s" + (f", ≤{limit_mb:.0f} MB" if limit_mb else "") + (" met" if met else " NOT met")


def run_store(workdir: Path, backends: list[str], profile: bool, expected: dict[str, set[str]] | None = None) -> None:
    head = f"{'backend':<12}{'check':<10}{'s':>8}{'cpu s':>8}{'peak MB':>9}  {'target':<24}report"
    print()
    print(head)
    print("-" * (len(head) + 30))
    for kind in backends:
        for phase, took, cpu, peak, counts in _one_backend(kind, workdir, profile, expected):
            target = _verdict(phase, took, peak)
            print(f"{kind:<12}{phase:<10}{took:>8.2f}{cpu:>8.2f}{peak:>9.0f}  {target:<24}{counts}")
    print()
    print("s: a whole `sesaku-monitor check --no-links --no-notify` subprocess, start to exit (the target is on s), its bytecode")
    print("compiled beforehand as an installed one's is (run from a compiled copy in the workdir, PYTHONDONTWRITEBYTECODE left out);")
    print("cpu s: its user+system CPU (steadier than s on a busy machine: PostgreSQL's own CPU is not in it); peak MB: its own")
    print(f"peak RSS (VmHWM). The list is served by a loopback HTTP site. {GIT_HISTORY}.")


def store_backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]
