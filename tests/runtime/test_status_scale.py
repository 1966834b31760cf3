"""``status`` holds at tens of thousands of lists (issue 15 item 3): it reads every list's newest
runs in a fixed number of queries, whatever their number, with the same failing streaks a
query per list gave. On SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rich.console import Console
from sqlalchemy import insert

from monitor.cadence import next_after
from monitor.cli import cli
from monitor.runtime.check import open_store
from monitor.runtime.fleet_status import print_fleet_status, read_fleet_status
from monitor.runtime.status import EVERY_ROW_UP_TO, needs_attention, read_status
from monitor.runtime.worker import apply_queue_schema
from store.database import engine_of, transaction
from store.models import JobState, Link, Source
from tests.conftest import make_config, statements_run
from tests.web.test_overview import NOW, _fill


def _sources(count: int) -> list[dict[str, object]]:
    return [{"id": f"list{n:02d}", "title": f"一覧 {n}", "url": f"https://example.lg.jp/{n}.csv", "format": "csv", "key_columns": ["施策"], "name_column": "施策"}
            for n in range(count)]


def _config(database_url: str, count: int):  # noqa: ANN202
    return make_config(database_url, *_sources(count))


def test_status_reads_sixty_lists_in_the_queries_of_six(database_url):
    config = _config(database_url, 6)
    sessions = open_store(config)
    _fill(sessions, 6)
    engine = sessions.kw["bind"]

    def read(config):  # noqa: ANN001, ANN202
        with statements_run(engine) as statements:
            return read_status(config, engine_of(sessions), NOW), len(statements)

    few, few_queries = read(config)
    _fill(sessions, 54, start=6)
    many, many_queries = read(_config(database_url, 60))
    assert many_queries == few_queries <= 10
    streaks = {source.id: (source.last_status, source.consecutive_failures, source.last_error) for source in many.sources}
    assert streaks["list00"] == ("changed", 0, None)
    assert streaks["list01"] == ("failed", 3, "connection refused")  # never good: every run counts
    assert streaks["list02"] == ("failed", 1, "connection refused")
    assert [s.id for s in many.sources] == [f"list{n:02d}" for n in range(60)]
    assert many.links == {"cited": 2, "dead": 2, "failing": 0}  # dead, not also failing


def test_the_fleet_backlog_names_the_busiest_hosts_and_counts_them_all(database_url):
    """One pass over the due links (PostgreSQL with the queue): the top hosts and how many hosts have any due."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the fleet is PostgreSQL's")
    apply_queue_schema(database_url)
    config = make_config(database_url)
    sessions = open_store(config)
    with transaction(sessions) as session:
        for host, due in (("a.lg.jp", 3), ("b.lg.jp", 2), ("c.lg.jp", 1)):
            for n in range(due + 1):  # and one link of each host not due yet
                session.add(Link(url=f"https://{host}/{n}", host=host, first_seen_at=NOW, cited=True, consecutive_failures=0,
                                 next_check_at=NOW - timedelta(hours=1) if n < due else NOW + timedelta(hours=1)))
    fleet = read_fleet_status(config, NOW, top_hosts=2)
    assert fleet is not None
    assert (fleet.backlog, fleet.backlog_hosts, fleet.backlog_links, fleet.backlog_whole) == ({"a.lg.jp": 3, "b.lg.jp": 2}, 3, 6, True)


def test_the_default_fleet_backlog_counts_the_most_overdue_links_and_says_more_are_due(database_url):
    """Capped, the backlog reads the never-checked then the longest due, up to the cap, and the
    table says more are due; uncapped (status --all) it counts every due link."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the fleet is PostgreSQL's")
    apply_queue_schema(database_url)
    config = make_config(database_url)
    sessions = open_store(config)
    due = {"never.lg.jp": [None], "late.lg.jp": [timedelta(days=3), timedelta(days=2)], "busy.lg.jp": [timedelta(hours=n + 1) for n in range(4)]}
    with transaction(sessions) as session:
        for host, overdue in due.items():
            session.add_all([Link(url=f"https://{host}/{n}", host=host, first_seen_at=NOW, cited=True, consecutive_failures=0,
                                  next_check_at=None if late is None else NOW - late) for n, late in enumerate(overdue)])
    capped = read_fleet_status(config, NOW, backlog_up_to=4)
    assert capped is not None
    # never.lg.jp's one, late.lg.jp's two, then the longest due of busy.lg.jp's four
    assert (capped.backlog, capped.backlog_hosts, capped.backlog_links, capped.backlog_whole) == (
        {"late.lg.jp": 2, "busy.lg.jp": 1, "never.lg.jp": 1}, 3, 4, False)
    console = Console(record=True, width=80)
    print_fleet_status(console, capped)
    printed = console.export_text()
    assert "Link backlog: the 4 most overdue links, on 3 hosts; more are due\n  (`sesaku-monitor status --all` counts every one)" in printed
    whole = read_fleet_status(config, NOW, backlog_up_to=None)
    assert whole is not None and (whole.backlog["busy.lg.jp"], whole.backlog_links, whole.backlog_whole) == (4, 7, True)
    console = Console(record=True, width=80)
    print_fleet_status(console, whole)
    assert "Link backlog: 7 links due on 3 hosts\n" in console.export_text()


def test_status_at_scale_shows_the_lists_that_need_a_look_and_all_with_all(database_url, tmp_path: Path):
    """Beyond EVERY_ROW_UP_TO lists the table holds the failing ones and counts the rest; --all
    and --json hold every one. A list whose job failed before it stored anything is shown too."""
    count = EVERY_ROW_UP_TO + 10
    config = _config(database_url, count)
    sessions = open_store(config)
    _fill(sessions, count)  # list01 failing since its first run, list02's newest run failed
    with transaction(sessions) as session:  # a configured list, never stored, whose job failed
        session.add(JobState(job_id=f"source:list{count}", last_started_at=NOW, last_error="no parser for it"))
        session.add_all([JobState(job_id="links:a.lg.jp", last_error="timed out"), JobState(job_id="links:b.lg.jp")])
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": database_url}, "sources": _sources(count + 1)}, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()

    table = runner.invoke(cli, ["status", "--config", str(path)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert f"sources: {count + 1} configured, 3 failing or suspect" in table.output
    shown = {line.split()[1] for line in table.output.splitlines() if line.startswith("│")}
    assert shown == {"list01", "list02", f"list{count}"}
    assert f"{count - 2} more need nothing: `sesaku-monitor status --all` lists every one" in table.output
    assert f"list{count} last error: no parser for it" in table.output

    every = runner.invoke(cli, ["status", "--all", "--config", str(path)], env={"COLUMNS": "200"})
    assert every.exit_code == 0, every.output
    # More rows than EVERY_ROW_UP_TO: aligned columns, one line a source, no box to lay out.
    rows = [line.split() for line in every.output.splitlines() if line.startswith("list") and " last error: " not in line]
    assert [row[0] for row in rows] == [f"list{n:02d}" for n in range(count + 1)]
    assert rows[1][1:3] + rows[1][-4:] == ["every", "6h", "failed", "3", "due", "now"] and "│" not in every.output
    assert "more need nothing" not in every.output

    data = json.loads(runner.invoke(cli, ["status", "--json", "--config", str(path)]).output)
    assert len(data["sources"]) == count + 1 and data["jobs"] == {"links": {"jobs": 2, "failing": 1}}
    assert data["sources"][-1]["last_error"] == "no parser for it" and data["sources"][-1]["last_run_at"] == NOW.isoformat()
    assert gc.isenabled()  # the command runs without the cycle collector, and gives it back to a process that goes on



def test_beyond_fifty_the_default_read_counts_what_reading_every_list_counts(database_url):
    """The default table's read (only the lists that need attention read whole, the rest counted
    from marks) says what the read of every list says: failing, due, never run, retired, not in config."""
    count = EVERY_ROW_UP_TO + 10
    sources = _sources(count + 1)  # list60: configured, never run
    sources[3]["schedule"] = {"cron": "0 7 * * *"}
    sources[4]["schedule"] = {"every": "1h"}
    config = make_config(database_url, *sources[:-3], sources[-1])  # list58, list59: stored, no longer configured
    sessions = open_store(config)
    _fill(sessions, count, retired=(5,))
    with transaction(sessions) as session:
        for n in range(0, count, 2):  # half started an hour ago (not due on 6h), half seven hours ago
            session.add(JobState(job_id=f"source:list{n:02d}", last_started_at=NOW - timedelta(hours=1)))
        for n in range(1, count, 2):
            session.add(JobState(job_id=f"source:list{n:02d}", last_started_at=NOW - timedelta(hours=7),
                                 last_error="boom" if n == 7 else None))
        session.add(JobState(job_id="source:list99", last_started_at=NOW, last_error="never stored"))  # configured below
    config = make_config(database_url, *sources[:-3], sources[-1], {**sources[0], "id": "list99"})
    whole = read_status(config, engine_of(sessions), NOW + timedelta(minutes=30))
    default = read_status(config, engine_of(sessions), NOW + timedelta(minutes=30), every=False)
    summary = ("configured", "attention", "due", "never", "retired", "not_in_config")
    assert [getattr(default, name) for name in summary] == [getattr(whole, name) for name in summary]
    assert (whole.configured, whole.attention, whole.never, whole.retired, whole.not_in_config) == (count, 4, 1, ["list05"], ["list58", "list59"])
    assert 20 < whole.due < count - 20  # some due, some not
    assert [s.as_dict() for s in default.sources] == [s.as_dict() for s in whole.sources if needs_attention(s)]
    assert [s.id for s in default.sources] == ["list01", "list02", "list07", "list99"] and not default.every


_SCHEDULES = (None, {"every": "1h"}, {"cron": "0 7 * * *"}, {"cron": "*/10 * * * *"})


_CLOCKS = (timedelta(0), timedelta(minutes=59, seconds=59), timedelta(hours=6, microseconds=1), timedelta(hours=20))


def test_at_eighteen_thousand_lists_both_reads_say_due_what_each_schedule_says(database_url):
    """One bound a schedule decides "due" for the read of every list (from each start time) and for
    the default table's (from each start's rank in SQL): at four clocks, both count what each
    list's schedule says of its last start (next_after), as do the rows of every list."""
    count = 18_000
    sources = [{**entry, "schedule": _SCHEDULES[n % 4]} if _SCHEDULES[n % 4] else entry for n, entry in enumerate(_sources(count))]
    for n, entry in enumerate(sources):
        entry["id"] = f"list{n:05d}"
    config = make_config(database_url, *sources)
    sessions = open_store(config)
    starts = {f"list{n:05d}": NOW - timedelta(minutes=(n * 7) % 1500, microseconds=n % 3) for n in range(count) if n % 9}
    with sessions.kw["bind"].begin() as connection:  # Core rows: 18,000 ORM objects would be most of the test
        connection.execute(insert(Source), [{"id": s["id"], "title": s["title"], "url": s["url"], "format": "csv", "created_at": NOW} for s in sources[::2]])
        connection.execute(insert(JobState), [{"job_id": f"source:{i}", "last_started_at": started} for i, started in starts.items()])
    for clock in _CLOCKS:
        now = NOW + clock
        expected = [s.id for s in config.sources if s.id not in starts or next_after(s.schedule or config.schedule.sources, starts[s.id], config.tz) <= now]
        whole = read_status(config, engine_of(sessions), now)
        default = read_status(config, engine_of(sessions), now, every=False)
        assert [s.id for s in whole.sources if s.due] == expected, clock
        assert whole.due == default.due == len(expected), clock
        assert 0 < len(expected) < count, clock


def test_status_from_a_checked_file_loads_neither_the_orm_nor_pydantic(tmp_path: Path):
    """The command of a second imports only what it uses: Core reads (store.source_reads) and the
    checked file's view (plain schedules), never the ORM's models, pydantic or the config schema."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": f"sqlite:///{tmp_path / 'db.sqlite'}"}, "sources": _sources(3)}, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    heavy = ("sqlalchemy.orm", "store.models", "pydantic", "monitor.config", "monitor.schedule")
    code = ("import sys\nfrom monitor.cli import cli\ntry:\n    cli(['status', '--config', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            f"print(sorted(name for name in {heavy!r} if name in sys.modules), file=sys.stderr)")
    first = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True, check=True)
    assert "3 configured" in first.stdout and "pydantic" in first.stderr  # the full load, which keeps the view
    again = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True, check=True)
    assert "3 configured" in again.stdout and again.stderr.strip().splitlines()[-1] == "[]", again.stderr
