"""80 columns (cron mail, a pipe) and 40 (a narrow terminal): a URL, an id and a count whole on a line.

Real subprocesses, stdout a pipe, rich's width from COLUMNS. Where a boxed table did not fit, rich
folded a URL over lines (a URL copied from the mail was broken), folded a long source id, and at
40 columns dropped whole columns (`links --dead` lost its URLs, `snapshots` its counts). Now such
output is plain aligned lines that may run past the width, as `status` prints.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import yaml
from sqlalchemy import text

from monitor.demo.site import Route
from monitor.runtime.check import open_store
from monitor.runtime.worker import QUEUE, RUN_TASK, apply_queue_schema
from store.database import transaction
from store.models import Link
from tests.cli.test_cli import run
from tests.conftest import fresh_database, make_config, source_entry
from tests.links.health import FAST_LINKS, citing_list, page

SOURCE_ID = "tokyo-tama-strategy-2-local-government-measures-with-a-long-id"
GONE = "/www.digitalservice.metro.tokyo.lg.jp/business/tokyo-data-highway/assetdb/open-data/dataset-catalogue.html"
MOVED = "/www.toshiseibi.metro.tokyo.lg.jp/seisaku/tama/shien.html"
MOVED_TO = "/www.toshiseibi.metro.tokyo.lg.jp/seisaku/tama/shien/local-government-measures/strategy-2/index.html"
TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d JST"


def _lines_with(text: str, needle: str) -> list[str]:
    found = [line for line in text.splitlines() if needle in line]
    assert found, f"{needle!r} is not whole on any line of:\n{text}"
    return found


@pytest.fixture
def workdir(tmp_path, site):
    """A list citing a page that is gone after the first check (dead at once) and one that redirects."""
    gone, moved, ok = site.url(GONE), site.url(MOVED), site.url("/pages/ok.html")
    for path in (GONE, MOVED_TO, "/pages/ok.html"):
        site.publish(path, page("多摩のまちづくり支援", "受付中"))
    site.publish(MOVED, Route(status=301, headers={"Location": site.url(MOVED_TO)}))
    site.publish("/tama.txt", Route(citing_list([gone, moved], ok).encode("utf-8")))
    config = {"database": {"url": f"sqlite:///{tmp_path / 'monitor.db'}"}, "http": {"allow_private_addresses": True},
              "sources": [source_entry(SOURCE_ID, site.url("/tama.txt"))], "links": {**FAST_LINKS, "dead_after": 1}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert run("check", cwd=tmp_path).returncode == 0
    site.remove(GONE)
    return tmp_path, gone, moved


def _shown(*args: str, cwd, columns: int) -> str:
    done = run(*args, cwd=cwd, env={"COLUMNS": str(columns)})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_dead_links_keep_each_url_whole_at_80_and_40_columns(workdir):
    cwd, gone, _ = workdir
    (line,) = _lines_with(_shown("links", "--recheck", gone, cwd=cwd, columns=80), gone)
    assert re.search(r"\bnot_found\b.*\b404\b.*\bdead\b", line), line
    for columns in (80, 40):
        shown = _shown("links", "--dead", cwd=cwd, columns=columns)
        (line,) = _lines_with(shown, gone)
        assert re.search(rf"{TIME}\s+not_found 404\s+", line), shown
    assert "│ " + gone in _shown("links", "--dead", cwd=cwd, columns=200)  # the box where it fits


def test_link_history_keeps_the_final_url_and_each_time_whole_at_80_columns(workdir, site):
    cwd, _, moved = workdir
    shown = _shown("links", "history", moved, cwd=cwd, columns=80)
    line = _lines_with(shown, site.url(MOVED_TO))[-1]  # the first line names it too, where it moved
    assert re.search(rf"^{TIME}\s+redirected\s+200\b", line), shown


def test_sources_keep_a_long_id_whole_at_80_columns(workdir):
    cwd, _, _ = workdir
    (line,) = _lines_with(_shown("sources", cwd=cwd, columns=80), SOURCE_ID)
    assert re.search(rf"^{SOURCE_ID}\s+watched\s+44\s+{TIME}\s+baseline$", line), line


def test_snapshots_keep_every_column_at_40_columns(workdir):
    cwd, _, _ = workdir
    shown = _shown("snapshots", SOURCE_ID, cwd=cwd, columns=40)
    assert re.search(rf"^1\s+{TIME}\s+baseline\s+44$", shown, re.MULTILINE), shown


def test_try_keeps_each_url_and_key_whole_at_80_columns(workdir):
    """Too wide to sit side by side (a table folded both): a block a row, a line a column."""
    cwd, gone, _ = workdir
    shown = run("try", SOURCE_ID, "--rows", "3", cwd=cwd, env={"COLUMNS": "80"}).stdout
    (line,) = _lines_with(shown, gone)
    assert line == f"  urls: {gone}", shown
    key = "地域を主体とするスマート東京先進事例創出事業 | デジタルサービス局 デジタルサービス推進部 デジタルサービス推進課"
    assert f"key (施策 + 担当部署): {key}" in shown.splitlines(), shown  # a block a row: key, then name, urls


def test_fleet_status_keeps_each_unit_and_host_whole_at_80_and_40_columns(tmp_path):
    """`status` on PostgreSQL with the queue: rich cut a worker's long source id at 80 columns and
    the busiest hosts at 40; each unit it works on is now a line of its own, each host whole."""
    host = "www.kyozon-kyoei.metro.tokyo.lg.jp"
    with fresh_database("postgresql", tmp_path) as url:
        apply_queue_schema(url)
        (tmp_path / "config.yaml").write_text(yaml.safe_dump({"database": {"url": url}}), encoding="utf-8")
        now = datetime.now(timezone.utc)
        with transaction(open_store(make_config(url))) as session:
            session.add_all([Link(url=f"https://{host}/{n}.html", host=host, first_seen_at=now, cited=True, consecutive_failures=0)
                             for n in range(3)])
            worker = session.scalar(text("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id"))
            session.execute(text("INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status, worker_id) "
                                 "VALUES (:queue, :task, :lock, '{}', 'doing', :worker)"),
                            {"queue": QUEUE, "task": RUN_TASK, "lock": f"source:{SOURCE_ID}", "worker": worker})
        (line,) = _lines_with(_shown("status", cwd=tmp_path, columns=80), f"source:{SOURCE_ID}")
        assert re.search(rf"^{worker}\s+[\d.]+s ago\s+1\s+source:", line), line
        (line,) = _lines_with(_shown("status", cwd=tmp_path, columns=40), host)
        assert re.search(rf"^{host}\s+3$", line), line
