"""The search backlog as a user meets it: a big list's baseline leaves its versions to the job
search:index; `check` says so in one line, `db index` indexes them, the daemon does it by
itself after the run, the fleet's tick finds the unit; every search finds them meanwhile.
SQLite and PostgreSQL, real subprocesses."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from monitor.config import load_config
from monitor.runtime.check import open_store
from monitor.runtime.search_backlog import waiting_versions
from monitor.runtime.worker import due_units
from store.database import transaction
from store.search import search_versions
from store.version_writes import BACKLOG_ROWS
from tests.cli.test_cli import run
from tests.conftest import source_entry
from tests.runtime.harness import write_config
from tests.runtime.test_check import publish
from tests.runtime.test_process import daemons  # noqa: F401 - the fixture

ROWS = BACKLOG_ROWS + 200
HEADER = "施策\t施策概要\t担当部署\t連絡先\tURL\t備考"


def big_list(rows: int = ROWS) -> str:
    lines = [f"多摩の施策{n:05d}\t地域の魅力発信{n:05d}号\t局{n % 7}部\t03-5320-{n % 10000:04d}\t-\t-" for n in range(rows)]
    return "\n".join(["【合成】 大きな一覧", "", HEADER, *lines]) + "\n"


def _found(sessions, term: str) -> list[str]:
    with transaction(sessions) as session:
        return [version.name for _, version in search_versions(session, [term], limit=5)]


def test_check_leaves_a_big_baseline_to_the_index_and_db_index_builds_it(tmp_path, site, database_url):
    publish(site, "/big.txt", big_list())
    path = write_config(tmp_path / "config.yaml", database_url, [source_entry("big", site.url("/big.txt"))])
    config = load_config(path)
    sessions = open_store(config)
    checked = run("check", "--config", str(path), "--no-notify", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    said = [line for line in checked.stderr.splitlines() if line.startswith("search:")]
    assert said == [f"search: {ROWS} versions wait for the index (found meanwhile by a slower scan); "
                    "`sesaku-monitor db index` or the daemon indexes them"]
    assert waiting_versions(sessions) == ROWS
    assert _found(sessions, "魅力発信05123号") == ["多摩の施策05123"]  # found while it waits
    shown = run("status", "--config", str(path), cwd=tmp_path)
    assert f"search index: {ROWS:,} versions waiting (`sesaku-monitor db index` indexes them now)" in shown.stdout, shown.stdout
    assert json.loads(run("status", "--json", "--config", str(path), cwd=tmp_path).stdout)["search"] == {"waiting": ROWS}
    now = datetime.now(timezone.utc)
    assert "search:index" in {unit.name for unit in due_units(config, sessions, now)}  # what a worker's tick queues

    indexed = run("db", "index", "--config", str(path), cwd=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert indexed.stdout.startswith(f"search index: {ROWS} versions indexed in ") and indexed.stdout.rstrip().endswith("; none waiting")
    assert waiting_versions(sessions) == 0 and _found(sessions, "魅力発信05123号") == ["多摩の施策05123"]
    assert "search:index" not in {unit.name for unit in due_units(config, sessions, now)}
    assert "search index" not in run("status", "--config", str(path), cwd=tmp_path).stdout
    again = run("check", "--config", str(path), "--no-notify", cwd=tmp_path)  # unchanged: nothing written, nothing waits
    assert again.returncode == 0 and "search:" not in again.stderr, again.stderr
    assert run("db", "index", "--config", str(path), cwd=tmp_path).stdout.startswith("search index: 0 versions indexed")


def test_the_daemon_indexes_what_a_list_run_left(tmp_path, site, database_url, daemons):
    publish(site, "/big.txt", big_list())
    path = write_config(tmp_path / "config.yaml", database_url, [source_entry("big", site.url("/big.txt"))], sources={"every": "1h"})
    daemon = daemons(path)
    daemon.wait_for("job_ok", job="source:big")
    indexed = daemon.wait_for("job_ok", job="search:index", timeout=90)
    assert indexed["records"] == ROWS and indexed["waiting"] == 0, daemon.log()
    sessions = open_store(load_config(path))
    assert waiting_versions(sessions) == 0 and _found(sessions, "魅力発信00042号") == ["多摩の施策00042"]
