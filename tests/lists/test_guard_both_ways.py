"""The guard holds both ways: a list that suddenly grows is suspect like one that shrinks, and a
parser's own reason comes before any column check. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.runtime.check import open_store, run_check
from monitor.config import GuardSettings, parse_config
from monitor.lists.guard import judge_list
from monitor.lists.records import ParsedList, Record
from store.database import transaction
from store.models import Event, Measure
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.lists.documents import DOCUMENTS, publish_file
from tests.runtime.test_check import clock, publish


def with_junk(text: str, rows: int) -> str:
    tabs = max(line.count("\t") for line in text.splitlines())
    junk = "\n".join("\t".join([f"ジャンク{n}", f"部署{n}"] + [""] * (tabs - 1)) for n in range(rows))
    return text.rstrip("\n") + "\n" + junk + "\n"


def test_a_list_flooded_with_junk_is_suspect_and_the_real_list_returns_quietly(site, database_url):
    real = seed_text(TAMA)
    publish(site, "/tama.txt", real)
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    sessions = open_store(config)
    tick = clock()
    assert run_check(config, sessions, clock=tick).sources[0].status == "baseline"
    publish(site, "/tama.txt", with_junk(real, 100_000))
    flooded = run_check(config, sessions, clock=tick).sources[0]
    assert (flooded.status, flooded.added) == ("suspect", [])
    assert flooded.error == "100044 rows where the last good version had 44: more than 100% added at once (guard.max_growth_share)"
    publish(site, "/tama.txt", real)
    back = run_check(config, sessions, clock=tick).sources[0]
    assert back.status in ("unchanged", "not_modified") and not (back.added or back.ended)
    with transaction(sessions) as session:
        assert session.scalars(select(Event.kind).order_by(Event.id)).all() == ["source_suspect", "source_recovered"]
        assert len(session.scalars(select(Measure.id)).all()) == 44


def test_a_scanned_pdf_says_it_has_no_text_not_that_a_column_is_missing(site, database_url):
    publish_file(site, "/list.pdf", DOCUMENTS / "tokyo-nationwide-collaboration-r4-scan.pdf")
    config = make_config(database_url, source_entry("nationwide", site.url("/list.pdf"), format="pdf"))
    report = run_check(config, open_store(config)).sources[0]
    assert report.status == "suspect"
    assert report.error == f"{site.url('/list.pdf')}: no extractable text on its 2 page(s) (a scanned PDF?); ask for a text PDF, or read it by hand"


def rows(count: int) -> ParsedList:
    return ParsedList(columns=["施策", "担当部署"], records=[Record({"施策": f"m{n}", "担当部署": "d"}, f"line {n}") for n in range(count)])


SOURCE = {"id": "s", "title": "t", "url": "https://example.jp/a.txt", "key_columns": ["施策"], "name_column": "施策"}


@pytest.mark.parametrize(("before", "after", "suspect"), [
    (3, 8, False),       # a small list's new edition: five rows are under min_growth_rows
    (44, 88, False),     # doubling exactly is not more than 100%
    (44, 89, True),
    (1000, 1900, False),
])
def test_growth_counts_past_a_share_and_a_number_of_rows(before, after, suspect):
    source = parse_config({"sources": [SOURCE]}).sources[0]
    assert (judge_list(rows(after), source, GuardSettings(), before) is not None) == suspect


def test_a_source_may_allow_more_growth_than_the_guard():
    source = parse_config({"sources": [{**SOURCE, "max_growth_share": 3}]}).sources[0]
    assert judge_list(rows(176), source, GuardSettings(), 44) is None
    assert judge_list(rows(177), source, GuardSettings(), 44) == "177 rows where the last good version had 44: more than 300% added at once (guard.max_growth_share)"
