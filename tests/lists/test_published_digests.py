"""Unchanged rows of a list are paired by a digest kept with each version (migration 0013).

A database upgraded from before 0013 holds versions without one: the next run makes theirs
from their fields and keeps it, and reports exactly what it would have. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from monitor.lists.versioning import _fields_digest, _published_digest
from monitor.runtime.check import open_store, run_check
from store.database import transaction
from store.models import Event, MeasureVersion
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.runtime.test_check import clock, publish


def _moved(text: str) -> str:
    """The same rows, the first two swapped and one phone edited."""
    lines = text.splitlines()
    rows = [i for i, line in enumerate(lines) if line.count("\t") >= 4 and not line.startswith("施策\t")]
    first, second = rows[0], rows[1]
    lines[first], lines[second] = lines[second], lines[first]
    lines[rows[5]] = lines[rows[5]].replace("03-", "042-", 1)
    return "\n".join(lines) + "\n"


def test_versions_stored_without_a_digest_are_paired_as_before_and_get_one(site, database_url):
    text = seed_text(TAMA)
    assert "03-" in [line for line in text.splitlines() if line.count("\t") >= 4][6]
    publish(site, "/tama.txt", text)
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    sessions, tick = open_store(config), clock()
    run_check(config, sessions, clock=tick)
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).where(MeasureVersion.published_digest.is_(None))) == 0
        versions = session.scalar(select(func.count()).select_from(MeasureVersion))
        session.execute(update(MeasureVersion).values(published_digest=None))  # as 0013 leaves older versions
    publish(site, "/tama.txt", _moved(text))
    report = run_check(config, sessions, clock=tick).sources[0]
    assert (report.status, len(report.changed), report.added, report.ended, report.renamed) == ("changed", 1, [], [], [])
    assert list(report.changed[0].fields) == ["連絡先"]
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(MeasureVersion)) == versions + 1  # only the edited row
        assert session.scalar(select(func.count()).where(MeasureVersion.published_digest.is_(None))) == 0
        assert session.scalar(select(func.count()).select_from(Event)) == 1


def test_a_row_under_other_columns_or_with_a_tab_in_a_cell_is_never_taken_as_published_unchanged():
    fields = {"施策": "A事業", "担当部署": "総務局"}
    assert _fields_digest(fields) == _published_digest(("施策", "担当部署"), "A事業\t総務局")
    assert _fields_digest(fields) != _published_digest(("事業名", "担当部署"), "A事業\t総務局")
    assert _fields_digest({"施策": "A\t事業"}) != _published_digest(("施策",), "A\t事業")


def test_every_new_version_keeps_the_digest_its_own_fields_make(site, database_url):
    # A new version's digest is the one its row was paired by, not made again from its fields:
    # both must agree, or the next run would take every row for a changed one.
    text = seed_text(TAMA)
    publish(site, "/tama.txt", text)
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    sessions, tick = open_store(config), clock()
    run_check(config, sessions, clock=tick)
    publish(site, "/tama.txt", _moved(text) + "新しい施策\t概要\t総務局\t-\thttps://example.org/new\t\n")
    report = run_check(config, sessions, clock=tick).sources[0]
    assert (len(report.changed), len(report.added)) == (1, 1)
    with transaction(sessions) as session:
        stored = session.execute(select(MeasureVersion.fields, MeasureVersion.published_digest)).all()
    assert [digest for _, digest in stored] == [_fields_digest(fields) for fields, _ in stored]
    publish(site, "/tama.txt", _moved(text) + "新しい施策\t概要\t総務局\t-\thttps://example.org/new\t\n\n")  # other bytes, the same rows
    assert run_check(config, sessions, clock=tick).sources[0].status == "unchanged"
