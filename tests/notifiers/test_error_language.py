"""Issue 17 item 9: why a list failed reads in the configured language on pages and in digests
(a list with no table, a host that refuses), while the logs keep the English; a rename is shown
once; a dead link is dead, not also failing, in status as in `links`."""

from __future__ import annotations

import json
import logging
import socket

import httpx

from monitor.demo.site import Route
from monitor.runtime.check import open_store, run_check
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.notifiers.world import webhook_notifier
from tests.runtime.test_check import clock, publish
from tests.versions import derive, set_cell
from tests.web.conftest import serving
from web import create_app


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _broken_lists(site, tmp_path, receiver, language: str):
    site.publish("/no-table.html", Route("<html><body><p>ただいま工事中です</p></body></html>".encode(), content_type="text/html"))
    sources = [
        {"id": "no-table", "title": "表のない一覧", "url": site.url("/no-table.html"), "format": "html-table", "key_columns": ["名"], "name_column": "名"},
        {"id": "down", "title": "届かない一覧", "url": f"http://127.0.0.1:{_closed_port()}/list.txt", "format": "text-table",
         "key_columns": ["名"], "name_column": "名"},
    ]
    config = make_config(f"sqlite:///{tmp_path / 'monitor.db'}", *sources, notifiers=[webhook_notifier(receiver.base + "/ok", language=language)],
                         web={"language": language})
    sessions = open_store(config)
    run_check(config, sessions, clock=clock())
    ((_, _, body),) = receiver.requests
    return config, sessions, json.loads(body)["text"]


def test_a_japanese_digest_and_page_say_why_a_list_failed_in_japanese_and_the_log_in_english(site, tmp_path, receiver, caplog):
    caplog.set_level(logging.INFO)
    config, sessions, digest = _broken_lists(site, tmp_path, receiver, "ja")
    assert "/no-table.html: ページに表（<table>）がありません（エラーページか、一覧が移動した可能性があります）" in digest
    assert "/list.txt: 接続できません: 接続を拒否されました (127.0.0.1 port" in digest
    assert "no <table>" not in digest and "cannot connect" not in digest and "Connection refused" not in digest
    logged = caplog.text
    assert "no <table> in the page" in logged and "cannot connect: Connection refused" in logged and "ページに表" not in logged

    with serving(create_app(config, sessions)) as base, httpx.Client(base_url=base, timeout=30) as client:
        home = client.get("/").text
        changes = client.get("/changes").text
    for page in (home, changes):
        assert "ページに表（&lt;table&gt;）がありません" in page and "接続できません: 接続を拒否されました" in page
        assert "no &lt;table&gt;" not in page and "cannot connect" not in page


def test_an_english_digest_keeps_the_english_line(site, tmp_path, receiver):
    _, _, digest = _broken_lists(site, tmp_path, receiver, "en")
    assert "/no-table.html: no <table> in the page (an error page, or the list moved?)" in digest
    assert "/list.txt: cannot connect: Connection refused" in digest


def test_a_rename_is_shown_once_as_published(site, tmp_path, receiver):
    publish(site, "/tama.txt", seed_text(TAMA))
    config = make_config(f"sqlite:///{tmp_path / 'monitor.db'}", source_entry("tama", site.url("/tama.txt")),
                         notifiers=[webhook_notifier(receiver.base + "/ok")])
    sessions, tick = open_store(config), clock()
    run_check(config, sessions, clock=tick)
    # Published with a full-width space: the normalised name differs from the cell as published.
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, "多摩の魅力発信プロジェクト", 0, "多摩の魅力発信　プロジェクト")))
    run_check(config, sessions, clock=tick)
    text = json.loads(receiver.requests[-1][2])["text"]
    assert text.count("多摩の魅力発信プロジェクト →") == 1 and "施策: 多摩の魅力発信プロジェクト → 多摩の魅力発信　プロジェクト" in text
    with serving(create_app(config, sessions)) as base, httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/changes").text
    assert page.count("多摩の魅力発信プロジェクト") == 1 and "名称変更: 多摩の魅力発信プロジェクト → 多摩の魅力発信　プロジェクト" in page
