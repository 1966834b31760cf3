"""The same list published in another format is the same list: a list that moves from PDF
to Excel (or from text to PDF) between versions reports no measure added, ended or changed.

Runs on SQLite and on PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.runtime.check import open_store, run_check
from store.database import transaction
from store.models import Event
from tests.conftest import NATIONWIDE, TAMA, make_config, source_entry
from tests.lists.documents import FIXTURES, publish_file

SEEDS = {"nationwide": NATIONWIDE.removesuffix(".txt"), "tama": TAMA.removesuffix(".txt")}


@pytest.mark.parametrize("source_id", ["nationwide", "tama"])
@pytest.mark.parametrize(("before", "after"), [
    ("documents/{}.pdf", "documents/{}.xlsx"),
    ("{}.txt", "documents/{}.pdf"),
])
def test_a_list_moving_to_another_format_changes_nothing(site, database_url, source_id, before, after):
    # One URL, as a publisher replacing the file behind a link; `format: auto` tells them apart.
    publish_file(site, "/list", FIXTURES / before.format(SEEDS[source_id]))
    config = make_config(database_url, source_entry(source_id, site.url("/list"), format="auto"))
    sessions = open_store(config)
    first = run_check(config, sessions).sources[0]
    publish_file(site, "/list", FIXTURES / after.format(SEEDS[source_id]))
    second = run_check(config, sessions).sources[0]
    assert (first.status, second.status) == ("baseline", "unchanged")
    assert second.records == first.records
    assert not (second.added or second.ended or second.changed or second.renamed or second.reappeared)
    with transaction(sessions) as session:
        assert session.scalars(select(Event.kind)).all() == []
