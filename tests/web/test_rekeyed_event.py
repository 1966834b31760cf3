"""A `rekeyed` note on /changes (and in /api/changes) shows what `sources rekey` did: how many
measures were re-keyed, how many got a new key or name, and the columns they were given.
Over HTTP on loopback."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx

from monitor.runtime.check import open_store
from store.database import transaction
from store.models import Event, Source
from tests.conftest import make_config
from tests.web.conftest import serving
from web import create_app

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
REKEYED = {"measures": 44, "keys_changed": 44, "names_changed": 0, "key_columns": "施策 + 担当部署", "name_column": "施策", "unpaired": 3}


def test_changes_page_shows_how_many_measures_were_rekeyed_and_by_which_columns(tmp_path):
    config = make_config(f"sqlite:///{tmp_path / 'web.db'}")
    sessions = open_store(config)
    with transaction(sessions) as session:
        session.add(Source(id="tama", title="多摩の施策", url="https://example.lg.jp/tama.csv", format="csv", created_at=NOW))
        session.flush()
        session.add(Event(created_at=NOW - timedelta(hours=1), kind="rekeyed", source_id="tama", payload=REKEYED))
    with serving(create_app(config, sessions, clock=lambda: NOW)) as base, httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/changes")
        details = page.text.split('<ul class="details">')[1].split("</ul>")[0]
        for line in ("再計算した施策: 44", "キーが変わった施策: 44", "名称が変わった施策: 0", "キー列: 施策 + 担当部署", "名称列: 施策", "最後の取得に見つからない施策: 3"):
            assert f"<li>{line}</li>" in details
        api = client.get("/api/changes").json()
        assert api["items"][0]["details"][:2] == ["再計算した施策: 44", "キーが変わった施策: 44"]
