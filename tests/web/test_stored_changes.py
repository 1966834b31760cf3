"""The measure page shows the field changes the pipeline stored, and decides nothing again.

A version that changes a phone number and, in the same edit, turns a ``-`` into an empty
cell and a half-width space into a full-width one has one change: the phone number. The
pipeline's event says so; the page and the API must say the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from monitor.demo.site import Route, running_site
from monitor.runtime.check import open_store, run_check
from store.database import transaction
from store.models import Event, Measure
from tests.conftest import TAMA, fresh_database, make_config, seed_text, source_entry
from tests.versions import derive, set_cell
from tests.web.conftest import DEPT, NAME, PHONE, PHONE_NAME, REMARK, T0, clock, serving
from web import create_app

V1 = [set_cell(NAME, PHONE_NAME, REMARK, "-"), set_cell(NAME, PHONE_NAME, DEPT, "総務局 行政部 振興企画課")]
V2 = [set_cell(NAME, PHONE_NAME, REMARK, ""), set_cell(NAME, PHONE_NAME, DEPT, "総務局　行政部　振興企画課"),
      set_cell(NAME, PHONE_NAME, PHONE, "03-5388-9999")]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def page(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, int, list[dict]]]:
    with fresh_database(request.param, tmp_path_factory.mktemp("stored"), prefix="sesaku_stored") as url, running_site() as site:
        config = make_config(url, source_entry("tama", site.url("/tama.txt")))
        sessions = open_store(config)
        for day, edits in enumerate((V1, V2)):
            site.publish("/tama.txt", Route(derive(seed_text(TAMA), *edits).encode(), content_type="text/plain"))
            run_check(config, sessions, clock=clock(T0 + timedelta(days=day)))
        with transaction(sessions) as session:
            measure_id = session.scalar(select(Measure.id).where(Measure.name == PHONE_NAME))
            stored = [e.payload for e in session.scalars(select(Event).where(Event.measure_id == measure_id))]
        app = create_app(config, sessions, clock=lambda: T0 + timedelta(days=3))
        with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
            yield client, measure_id, stored
        sessions.kw["bind"].dispose()


def test_the_pipeline_stored_only_the_phone_number(page: tuple[httpx.Client, int, list[dict]]) -> None:
    _, _, stored = page
    assert [list(p["fields"]) for p in stored] == [["連絡先"]]


def test_the_api_shows_the_stored_change_and_no_other(page: tuple[httpx.Client, int, list[dict]]) -> None:
    client, measure_id, _ = page
    latest = client.get(f"/api/measures/{measure_id}").json()["versions"][0]
    changed = {f["column"]: (f["change"]["old"], f["change"]["new"]) for f in latest["fields"] if f["change"]}
    assert changed == {"連絡先": ("03-5388-2443", "03-5388-9999")}


def test_the_measure_page_marks_one_changed_field(page: tuple[httpx.Client, int, list[dict]]) -> None:
    client, measure_id, _ = page
    html = client.get(f"/measures/{measure_id}").text
    latest = html.split('<section class="version" id="v2">')[1].split("</section>")[0]
    assert re.findall(r'<tr class="changed"><th>([^<]+)<', latest) == ["連絡先"]
