"""Fixtures of the web tests: a database built by the real pipeline, served on loopback.

``web_db`` runs the pipeline over three versions of the Tokyo 戦略2 list and two of the
nationwide list (renames, field edits, a long text edit, an ended and an added measure, one
named ``<script>alert(1)</script>`` whose URL is ``javascript:…``), once per backend for the
session. Link checking is not part of that pipeline yet, so a link's check history (healthy,
then failing until dead) and its ``link_dead`` event are written through the store models.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from monitor.runtime.check import open_store, run_check
from monitor.config import Config
from monitor.demo.site import Route, running_site
from store.database import SessionFactory, transaction
from store.models import Event, Link, LinkCheck, Measure
from tests.conftest import NATIONWIDE, TAMA, fresh_database, make_config, seed_text, source_entry
from tests.versions import derive, insert_row, remove_row, set_cell
from web import create_app

T0 = datetime(2026, 4, 1, 0, 0, tzinfo=timezone.utc)
NAME, SUMMARY, DEPT, PHONE, URL, REMARK = 0, 1, 2, 3, 4, 5
XSS_NAME = "<script>alert(1)</script>"
XSS_URL = "javascript:alert(document.cookie)"
LONG_NAME = "多摩ニュータウン地域再生検討"
PHONE_NAME = "多様な主体との連携活動促進補助金"
RENAMED = "多摩の魅力発信プロジェクト（旧：多摩PR事業）"
DEAD_URL_PART = "tama120"


def clock(start: datetime):
    moments = iter(start + timedelta(seconds=i) for i in range(100_000))
    return lambda: next(moments)


def _long_summary(text: str) -> str:
    return text.replace("検討調査", "詳細な検討調査").replace("技術支援", "技術的な支援")


TAMA_V2 = [
    set_cell(NAME, "多摩の魅力発信プロジェクト", NAME, RENAMED),
    set_cell(NAME, PHONE_NAME, PHONE, "03-5388-9999"),
    remove_row(NAME, "まちづくり推進コンシェルジュ"),
    insert_row(NAME, "市町村土木補助事業", [XSS_NAME, "<b>太字</b> & 記号", "総務局 <i>行政部</i>", "03-0000-0000", XSS_URL, "令和10年度まで"]),
]
TAMA_V3 = [*TAMA_V2, set_cell(NAME, PHONE_NAME, PHONE, "03-5388-7777")]


@dataclass(frozen=True)
class WebDB:
    """A database the pipeline filled, and the ids the tests look at."""

    url: str
    config: Config
    sessions: SessionFactory
    phone_measure: int
    long_measure: int
    xss_measure: int
    dead_link: int
    js_link: int
    now: datetime


def _publish(site: Any, tama_edits: list, nationwide: str) -> None:
    site.publish("/tama.txt", Route(derive(seed_text(TAMA), *tama_edits).encode(), content_type="text/plain"))
    site.publish("/nationwide.txt", Route(nationwide.encode(), content_type="text/plain"))


def _long_edit(rows: list[list[str]]) -> None:
    for cells in rows:
        if cells and cells[0] == LONG_NAME:
            cells[SUMMARY] = _long_summary(cells[SUMMARY])


def build(url: str) -> WebDB:
    """Three runs of the real pipeline, a day apart, then a link history."""
    with running_site() as site:
        config = make_config(url, source_entry("tama", site.url("/tama.txt")), source_entry("nationwide", site.url("/nationwide.txt")))
        sessions = open_store(config)
        nationwide = seed_text(NATIONWIDE)
        _publish(site, [], nationwide)
        run_check(config, sessions, clock=clock(T0))
        _publish(site, [*TAMA_V2, _long_edit], nationwide)
        run_check(config, sessions, clock=clock(T0 + timedelta(days=1)))
        _publish(site, [*TAMA_V3, _long_edit], derive(nationwide, set_cell(4, "産業交流展", 4, "産業交流展2026")))
        run_check(config, sessions, clock=clock(T0 + timedelta(days=2)))
    dead, js = _link_history(sessions)
    with transaction(sessions) as session:
        ids = {name: session.scalar(select(Measure.id).where(Measure.name == name)) for name in (PHONE_NAME, LONG_NAME, XSS_NAME)}
    return WebDB(url, config, sessions, ids[PHONE_NAME], ids[LONG_NAME], ids[XSS_NAME], dead, js, T0 + timedelta(days=3))


def _link_history(sessions: SessionFactory) -> tuple[int, int]:
    """30 checks of one cited link: 20 healthy, then 10 not found; a link_dead event."""
    start = T0 + timedelta(hours=1)
    with transaction(sessions) as session:
        link = session.scalar(select(Link).where(Link.url.like(f"%{DEAD_URL_PART}%")))
        assert link is not None, "the seed list cites the tama120 site"
        for i in range(30):
            ok = i < 20
            session.add(LinkCheck(
                link_id=link.id, checked_at=start + timedelta(hours=2 * i), outcome="ok" if ok else "not_found",
                http_status=200 if ok else 404, elapsed_ms=120 + 15 * i if ok else 900 + 40 * (i - 20), error=None if ok else "HTTP 404",
            ))
        failing_since, dead_since = start + timedelta(hours=40), start + timedelta(hours=44)
        link.outcome, link.http_status, link.last_checked_at = "not_found", 404, start + timedelta(hours=58)
        link.last_ok_at, link.consecutive_failures = start + timedelta(hours=38), 10
        link.failing_since, link.dead_since = failing_since, dead_since
        measure = session.scalar(select(Measure).where(Measure.name.like("多摩の魅力発信プロジェクト%")))
        session.add(Event(created_at=T0 + timedelta(days=2, hours=12), kind="link_dead", link_id=link.id, payload={
            "url": link.url, "outcome": "not_found", "http_status": 404, "since": dead_since.isoformat(),
            "measures": [{"id": measure.id, "name": measure.name, "source_id": "tama"}],
        }))
        js = Link(url=XSS_URL, host="", first_seen_at=T0, cited=False, outcome="invalid", consecutive_failures=1, last_checked_at=T0)
        session.add(js)
        session.flush()
        session.add(Event(created_at=T0 + timedelta(days=2, hours=13), kind="link_dead", link_id=js.id,
                          payload={"url": XSS_URL, "outcome": "invalid", "measures": [{"id": 0, "name": XSS_NAME, "source_id": "tama"}]}))
        return link.id, js.id


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def web_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDB]:
    with fresh_database(request.param, tmp_path_factory.mktemp("web"), prefix="sesaku_web") as url:
        db = build(url)
        yield db
        db.sessions.kw["bind"].dispose()


@pytest.fixture(scope="session")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> WebDB:
    """The same database on SQLite only (browser, schemathesis, feeds with a fixed base URL)."""
    return build(f"sqlite:///{tmp_path_factory.mktemp('web-sqlite') / 'web.db'}")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="web-under-test", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def app_for(db: WebDB, **web: Any) -> Any:
    config = db.config.model_copy(update={"web": db.config.web.model_copy(update=web)}) if web else db.config
    return create_app(config, db.sessions, clock=lambda: db.now)


@pytest.fixture(scope="session")
def served(web_db: WebDB) -> Iterator[tuple[WebDB, httpx.Client]]:
    """The web view of ``web_db`` on loopback, and an HTTP client for it."""
    with serving(app_for(web_db)) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield web_db, client
