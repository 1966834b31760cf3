"""Faults around the outbox: secrets kept out of the database and the logs, broken templates, bad config."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from monitor.runtime.check import run_check
from monitor.errors import ConfigError
from store.database import transaction
from store.models import Base, NotifierCursor
from tests.conftest import make_config, source_entry
from tests.notifiers.servers import Inbox, Receiver, free_port
from tests.notifiers.world import HOOK_SECRET, HOOK_TOKEN, SMTP_PASSWORD, World, email_notifier, rows, webhook_notifier
from tests.runtime.test_check import clock


def database_text(sessions: Any) -> str:
    """Every row of every table as text, as someone reading a database dump would see it."""
    with transaction(sessions) as session:
        return "\n".join(repr(list(row)) for table in Base.metadata.sorted_tables for row in session.execute(select(table)))


def test_secrets_stay_out_of_the_database_and_the_logs(
    world: World, smtp_refusing_login: tuple[Controller, Inbox], receiver: Receiver, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    controller, _ = smtp_refusing_login
    config, sessions = world.config(
        email_notifier(controller.port),
        webhook_notifier(f"{receiver.base}/status/500/{HOOK_TOKEN}", id="hook-500"),
        webhook_notifier(f"http://127.0.0.1:{free_port()}/{HOOK_TOKEN}", id="hook-refused"),
    )
    world.baseline_then_revision(config, sessions)
    errors = {row.notifier_id: row.last_error for row in rows(sessions)}
    assert "refused the login of 'monitor'" in errors["team-mail"]
    assert errors["hook-500"].startswith(f"webhook {receiver.base} answered HTTP 500")
    assert "refused" in errors["hook-refused"]
    dump = database_text(sessions)
    for secret in (SMTP_PASSWORD, HOOK_SECRET, HOOK_TOKEN):
        assert secret not in dump
        assert secret not in caplog.text
    assert "attempt 1 failed" in caplog.text  # the failures themselves are logged


def test_a_syntax_error_in_a_user_template_fails_at_load(world: World, tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("{{ digest.total }\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        world.config(email_notifier(25, template_dir=str(tmp_path)))
    message = str(caught.value)
    assert message.startswith("test-config: notifiers[0].template_dir: template ") and "digest.txt.j2, line 1:" in message
    assert "\n" not in message


def test_a_template_failing_at_render_keeps_the_events_for_the_fixed_template(
    world: World, receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    broken, fixed = tmp_path / "broken", tmp_path / "fixed"
    broken.mkdir()
    fixed.mkdir()
    (broken / "subject.txt.j2").write_text("{{ digest.no_such_thing }}\n", encoding="utf-8")
    (fixed / "subject.txt.j2").write_text("{{ digest.total }} changes\n", encoding="utf-8")
    config, sessions = world.config(webhook_notifier(receiver.base + "/ok", template_dir=str(broken)))
    world.baseline_then_revision(config, sessions)  # the run itself carries on
    assert "notifier hook: template" in caplog.text and "subject.txt.j2, line 1" in caplog.text and "no_such_thing" in caplog.text
    assert rows(sessions) == [] and receiver.requests == []
    with transaction(sessions) as session:
        assert session.get(NotifierCursor, "hook").last_event_id == 0  # the cursor stayed where it started, before the events

    config = make_config(world.database_url, source_entry("tama", world.site.url("/tama.txt")),
                         notifiers=[webhook_notifier(receiver.base + "/ok", template_dir=str(fixed))])
    run_check(config, sessions, clock=clock())
    (row,) = rows(sessions)
    assert (row.status, row.event_count, row.payload["subject"]) == ("sent", 2, "2 changes")


@pytest.mark.parametrize(
    ("notifier", "expected"),
    [
        ({"id": "x", "type": "pager", "options": {}}, "notifiers[0].type: unknown notifier type 'pager' (known: email, webhook)"),
        ({"id": "x", "type": "webhook", "options": {"url": "https://h.example/"}, "colour": "red"}, "notifiers[0].colour: unknown key"),
        ({"id": "x", "type": "webhook", "kinds": ["added", "exploded"], "options": {"url": "https://h.example/"}},
         "notifiers[0].kinds: unknown event kind 'exploded'"),
        ({"id": "x", "type": "webhook", "sources": ["nowhere"], "options": {"url": "https://h.example/"}},
         "(top level): notifiers[0].sources: no source with id 'nowhere'"),
        ({"id": "x", "type": "webhook", "schedule": "hourly", "options": {"url": "https://h.example/"}},
         'notifiers[0].schedule: must be after_run, {cron: "0 8 * * *"} or {every: 1d}'),
        ({"id": "x", "type": "webhook", "schedule": {"cron": "61 * * * *"}, "options": {"url": "https://h.example/"}},
         "notifiers[0].schedule.cron: not a crontab line '61 * * * *'"),
        ({"id": "x", "type": "email", "options": {"sender": "a@b.jp", "recipients": ["c@d.jp"], "password": "${SMTP_PASSWORD}"}},
         "notifiers[0].options: email notifier options: smtp_host: Field required"),
        ({"id": "x", "type": "email", "options": {"smtp_host": "h", "sender": "a@b.jp", "recipients": ["c@d.jp"], "pasword": "p"}},
         "notifiers[0].options: email notifier options: pasword: Extra inputs are not permitted"),
        ({"id": "x", "type": "webhook", "language": "fr", "options": {"url": "https://h.example/"}}, "notifiers[0].language:"),
        ({"id": "x", "type": "webhook", "template_dir": "/no/such/dir", "options": {"url": "https://h.example/"}},
         "notifiers[0].template_dir: template directory /no/such/dir does not exist"),
    ],
)
def test_config_errors_are_one_line_naming_the_key(notifier: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config("sqlite://", source_entry("tama", "http://127.0.0.1/t.txt"), notifiers=[notifier])
    message = str(caught.value)
    assert message.startswith(f"test-config: {expected}"), message
    assert "\n" not in message and SMTP_PASSWORD not in message


def test_notifier_ids_are_unique_and_defaults_are_documented_ones() -> None:
    hook = {"id": "x", "type": "webhook", "options": {"url": "https://h.example/"}}
    with pytest.raises(ConfigError, match="notifier id 'x' is used twice"):
        make_config("sqlite://", notifiers=[hook, hook])
    (notifier,) = make_config("sqlite://", notifiers=[hook | {"schedule": "after_run"}]).notifiers
    assert (notifier.after_run, notifier.sources, notifier.kinds, notifier.language, notifier.max_attempts, notifier.all_quiet) == (
        True, None, None, "ja", 8, False)
    (daily,) = make_config("sqlite://", notifiers=[hook | {"schedule": {"every": "1d"}}]).notifiers
    assert daily.when() == "every 1d"
