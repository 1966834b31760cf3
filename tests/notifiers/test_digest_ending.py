"""The digest's 「N日以内に終了予定」 section (``ending_within_days``), through real deliveries on loopback.

The seed list (monitored from 2026-04-01) has two measures ending 2027-03-31 (令和8年度まで) and
two ending 2028-03-31; a second list reads the same page, so a notifier's ``sources:`` decides
whose measures its section lists. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aiosmtpd.controller import Controller

from monitor.runtime.check import open_store, run_check
from notifiers import build_digest
from notifiers.render import render
from store.ending import department_of
from tests.conftest import make_config, source_entry
from tests.notifiers.servers import Inbox, Receiver
from tests.notifiers.world import HOOK_TOKEN, World, email_notifier, revise, webhook_notifier
from tests.runtime.test_check import T0

FIRST, SECOND = date(2027, 3, 31), date(2028, 3, 31)


def _config(world: World, *notifiers: dict[str, Any]) -> tuple[Any, Any]:
    """The seed list as ``tama`` and the same page again as ``tama-copy``."""
    config = make_config(world.database_url, source_entry("tama", world.site.url("/tama.txt")),
                         source_entry("tama-copy", world.site.url("/tama.txt"), title="写しの一覧"), notifiers=list(notifiers))
    return config, open_store(config)


def _payloads(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    return [json.loads(body) for request_path, _, body in receiver.requests if request_path.startswith(path)]


def test_the_section_lists_the_notifiers_lists_ending_within_its_days_in_text_html_and_json(
        world: World, smtp_server: tuple[Controller, Inbox], receiver: Receiver) -> None:
    controller, inbox = smtp_server
    config, sessions = _config(
        world,
        webhook_notifier(receiver.base + f"/ok/{HOOK_TOKEN}/a", sources=["tama"], ending_within_days=730),
        webhook_notifier(receiver.base + f"/ok/{HOOK_TOKEN}/b", id="hook-plain"),
        email_notifier(controller.port, sources=["tama"], ending_within_days=365),
    )
    run_check(config, sessions, clock=world.tick)
    # The baseline has no events: the section alone never makes a digest be sent.
    assert receiver.requests == [] and inbox.envelopes == []

    revise(world.site)
    run_check(config, sessions, clock=world.tick)
    (payload,) = _payloads(receiver, f"/ok/{HOOK_TOKEN}/a")
    ending = payload["ending"]
    assert (ending["days"], ending["title"], ending["from"], ending["to"]) == (730, "730日以内に終了予定", "2026-04-01", "2028-03-31")
    items = ending["items"]
    # Soonest first, only the notifier's own list, each with its end date, list and department.
    assert [i["end_date"] for i in items] == [FIRST.isoformat()] * 2 + [SECOND.isoformat()] * 2
    assert {i["source_id"] for i in items} == {"tama"} and {i["source_title"] for i in items} == {"多摩のまちづくり 戦略2"}
    assert {i["name"] for i in items[:2]} == {"第三次みちづくり・まちづくりパートナー事業", "地域公共交通の充実・強化"}
    road = next(i for i in items if i["name"] == "第三次みちづくり・まちづくりパートナー事業")
    assert road["department"] == "建設局 道路建設部 管理課・道路橋梁課"
    assert "■ 730日以内に終了予定 (2026-04-01 – 2028-03-31)" in payload["text"]
    assert "・2027-03-31  第三次みちづくり・まちづくりパートナー事業" in payload["text"]
    assert "担当: 建設局 道路建設部 管理課・道路橋梁課" in payload["text"]

    (plain,) = _payloads(receiver, f"/ok/{HOOK_TOKEN}/b")
    assert plain["ending"] is None and "終了予定" not in plain["text"]  # the option is off by default

    (mail,) = inbox.messages()
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    assert "365日以内に終了予定" in text and "地域公共交通の充実・強化" in text.split("365日以内に終了予定")[1]
    assert "2028-03-31" not in text.split("365日以内に終了予定")[1]  # a year from 2026-04-01 ends before 2028
    section = html.split("365日以内に終了予定")[1]
    assert "<table" in section and "2027-03-31" in section and "都市整備局 都市基盤部 交通企画課" in section
    assert "EVバス・EVトラック導入促進事業" not in section


def test_a_notifier_of_every_list_gets_both_lists_and_an_empty_section_says_so(world: World, receiver: Receiver) -> None:
    config, sessions = _config(
        world,
        webhook_notifier(receiver.base + "/ok/all", ending_within_days=365),
        webhook_notifier(receiver.base + "/ok/short", id="hook-short", ending_within_days=30, language="en"),
    )
    run_check(config, sessions, clock=world.tick)
    revise(world.site)
    run_check(config, sessions, clock=world.tick)
    (every,) = _payloads(receiver, "/ok/all")
    assert [(i["end_date"], i["source_id"]) for i in every["ending"]["items"]] == [
        (FIRST.isoformat(), "tama"), (FIRST.isoformat(), "tama"), (FIRST.isoformat(), "tama-copy"), (FIRST.isoformat(), "tama-copy")]
    (short,) = _payloads(receiver, "/ok/short")
    assert short["ending"]["title"] == "Ending within 30 days" and short["ending"]["items"] == []
    assert "Ending within 30 days" in short["text"] and "No measure." in short["text"]


def test_zero_days_is_off_and_department_of_lives_in_the_store() -> None:
    assert build_digest("n", [], now=T0, all_quiet=True, ending_days=0).ending is None
    digest = build_digest("n", [], now=T0, all_quiet=True, ending_days=90)
    assert digest.ending is not None and digest.ending.title == "90日以内に終了予定"
    assert "90日以内に終了予定" in render(digest).html
    assert department_of({"施策": "x", "担当部署": "都市整備局"}) == "都市整備局"
