"""The outbox end to end: the real pipeline writes events, digests go to real servers on loopback.

Every test here runs on SQLite and on PostgreSQL (the ``database_url`` fixture). A loopback
site serves the Tokyo seed list and a revision of it; an aiosmtpd server and an HTTP
receiver get the digests; faults are made by stopping, failing and restarting them.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.runtime.check import run_check
from notifiers import verify_signature
from notifiers.outbox import backoff, deliver_notifier, prepare_delivery, send_pending
from store.database import transaction
from store.models import Delivery, NotifierCursor
from store.outbox import claim
from tests.conftest import TAMA, seed_text
from tests.notifiers.servers import Inbox, Receiver, accept_monitor, free_port
from tests.notifiers.world import HOOK_SECRET, HOOK_TOKEN, RENAMED, World, email_notifier, later, revise, rows, webhook_notifier
from tests.runtime.test_check import T0, clock, publish


@pytest.fixture
def smtp(smtp_server: tuple[Controller, Inbox]) -> tuple[int, Inbox]:
    controller, inbox = smtp_server
    return controller.port, inbox


def test_check_sends_the_digest_by_email_and_signed_webhook_once(world: World, smtp: tuple[int, Inbox], receiver: Receiver) -> None:
    port, inbox = smtp
    config, sessions = world.config(email_notifier(port), webhook_notifier(receiver.base + f"/ok/{HOOK_TOKEN}"))
    run_check(config, sessions, clock=world.tick)
    assert inbox.envelopes == [] and receiver.requests == []  # a baseline has nothing to say

    revise(world.site)
    run_check(config, sessions, clock=world.tick)
    (mail,) = inbox.messages()
    assert mail["Subject"] == "[sesaku-monitor] 「多摩のまちづくり 戦略2」 名称変更 1・変更 1"
    assert mail["From"].addresses[0].display_name == "施策モニター"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert RENAMED[1] in text and "03-5320-0000" in text and RENAMED[1] in html and "<table" in html
    ((_, headers, body),) = receiver.requests
    assert verify_signature(HOOK_SECRET, headers["X-Sesaku-Timestamp"], body, headers["X-Sesaku-Signature"], now=datetime.now(UTC))
    payload = json.loads(body)
    assert payload["counts"] == {"renamed": 1, "changed": 1}

    email_row, hook_row = rows(sessions)
    assert (email_row.status, email_row.attempts, email_row.event_count) == ("sent", 1, 2)
    assert mail["Message-ID"] == f"<sesaku-{email_row.idempotency_key}@example.jp>"
    assert headers["Idempotency-Key"] == hook_row.idempotency_key and hook_row.status == "sent"

    run_check(config, sessions, clock=world.tick)  # nothing new: nothing sent, nothing written
    assert len(inbox.envelopes) == 1 and len(receiver.requests) == 1 and len(rows(sessions)) == 2


def test_smtp_down_then_restarted_delivers_once(world: World) -> None:
    port = free_port()
    config, sessions = world.config(email_notifier(port))
    world.baseline_then_revision(config, sessions)
    (row,) = rows(sessions)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == f"cannot reach SMTP server 127.0.0.1:{port}: Connection refused"
    assert row.next_attempt_at == row.created_at + backoff(1)

    # Still down at the next try: the wait doubles, persisted in the row.
    first_retry = row.next_attempt_at
    send_pending(config, sessions, first_retry)
    (row,) = rows(sessions)
    assert (row.attempts, row.next_attempt_at) == (2, first_retry + backoff(2))

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=accept_monitor, auth_require_tls=False)
    controller.start()
    try:
        send_pending(config, sessions, row.next_attempt_at - timedelta(seconds=1))  # not due yet
        assert inbox.envelopes == []
        send_pending(config, sessions, row.next_attempt_at)
        send_pending(config, sessions, later(30))
        run_check(config, sessions, clock=world.tick)
    finally:
        controller.stop()
    assert len(inbox.envelopes) == 1
    (row,) = rows(sessions)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_webhook_500_then_200_delivers_once_with_attempts_recorded(world: World, receiver: Receiver) -> None:
    receiver.fail_with = 500
    config, sessions = world.config(webhook_notifier(receiver.base + "/hook"))
    world.baseline_then_revision(config, sessions)
    send_pending(config, sessions, later(0))
    (row,) = rows(sessions)
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.last_error == f'webhook {receiver.base} answered HTTP 500: {{"error": "no_service"}}'

    receiver.fail_with = None
    send_pending(config, sessions, later(60))
    send_pending(config, sessions, later(120))
    (row,) = rows(sessions)
    assert (row.status, row.attempts) == ("sent", 3)
    keys = {headers["Idempotency-Key"] for _, headers, _ in receiver.requests}
    assert len(receiver.requests) == 3 and keys == {row.idempotency_key}  # the same key on every retry


def test_failed_after_max_attempts_then_a_later_success_still_delivers_it(world: World, receiver: Receiver) -> None:
    receiver.fail_with = 404
    config, sessions = world.config(webhook_notifier(receiver.base + "/hook", max_attempts=2))
    world.baseline_then_revision(config, sessions)
    send_pending(config, sessions, later(0))
    (row,) = rows(sessions)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 2, None)
    send_pending(config, sessions, later(600))
    assert len(receiver.requests) == 2  # given up: no more tries on its own

    receiver.fail_with = None
    publish(world.site, "/tama.txt", seed_text(TAMA))  # the revision undone: a second digest
    run_check(config, sessions, clock=world.tick)
    first, second = rows(sessions)
    assert (first.status, second.status) == ("sent", "sent")
    bodies = [json.loads(body) for _, _, body in receiver.requests[2:]]
    assert sorted(b["idempotency_key"] for b in bodies) == sorted([first.idempotency_key, second.idempotency_key])


def test_prepared_but_never_sent_is_sent_once_and_no_event_twice(world: World, smtp: tuple[int, Inbox]) -> None:
    port, inbox = smtp
    config, sessions = world.config(email_notifier(port))
    run_check(config, sessions, clock=world.tick)
    revise(world.site)
    # Events written, no digest yet: the notifiers are left out of this run.
    run_check(config.model_copy(update={"notifiers": []}), sessions, clock=world.tick)
    delivery_id, more = prepare_delivery(config, sessions, world.tick(), "team-mail")  # ... and the process dies here
    assert delivery_id is not None and not more
    assert prepare_delivery(config, sessions, world.tick(), "team-mail") == (None, False)  # the cursor moved
    with transaction(sessions) as session:
        assert session.get(NotifierCursor, "team-mail").last_event_id == rows(sessions)[0].last_event_id
    run_check(config, sessions, clock=world.tick)
    run_check(config, sessions, clock=world.tick)
    assert len(inbox.envelopes) == 1 and len(rows(sessions)) == 1


def test_two_senders_racing_send_once(world: World, receiver: Receiver) -> None:
    receiver.fail_with = 500  # written and tried once by the run; the racers retry it
    config, sessions = world.config(webhook_notifier(receiver.base + "/hook"))
    world.baseline_then_revision(config, sessions)
    receiver.fail_with = None
    (row,) = rows(sessions)
    with transaction(sessions) as session:
        assert claim(session, row.id, later(0), timedelta(minutes=15)) is not None
    with transaction(sessions) as session:
        assert claim(session, row.id, later(1), timedelta(minutes=15)) is None  # leased by the first
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            barrier.wait()
            send_pending(config, sessions, later(20))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(receiver.requests) == 2  # the failed try, then one send
    assert rows(sessions)[0].status == "sent"


def test_filters_by_source_and_kind(world: World, receiver: Receiver) -> None:
    config, sessions = world.config(
        webhook_notifier(receiver.base + "/renamed", id="renames", kinds=["renamed"], sources=["tama"]),
        webhook_notifier(receiver.base + "/ended", id="ends", kinds=["ended", "source_failed"]),
    )
    world.baseline_then_revision(config, sessions)
    ((path, _, body),) = receiver.requests
    assert path == "/renamed" and json.loads(body)["counts"] == {"renamed": 1}
    assert [row.notifier_id for row in rows(sessions)] == ["renames"]


def test_all_quiet_after_a_run_without_events(world: World, receiver: Receiver) -> None:
    config, sessions = world.config(webhook_notifier(receiver.base + "/q", all_quiet=True, language="en"))
    run_check(config, sessions, clock=world.tick)
    run_check(config, sessions, clock=world.tick)
    bodies = [json.loads(body) for _, _, body in receiver.requests]
    assert len(bodies) == 2 and all(b["all_quiet"] and b["total"] == 0 for b in bodies)
    assert len({b["idempotency_key"] for b in bodies}) == 2


def test_a_scheduled_digest_waits_for_its_time(world: World, receiver: Receiver) -> None:
    config, sessions = world.config(webhook_notifier(receiver.base + "/daily", schedule={"cron": "0 8 * * *"}))
    world.baseline_then_revision(config, sessions)  # at 09:00 JST: the next digest is at 08:00 tomorrow
    assert receiver.requests == []
    eight_jst = datetime(2026, 4, 1, 23, 0, tzinfo=UTC)
    deliver_notifier(config, sessions, eight_jst - timedelta(minutes=1), "hook")
    assert receiver.requests == []
    deliver_notifier(config, sessions, eight_jst, "hook")
    deliver_notifier(config, sessions, eight_jst + timedelta(minutes=30), "hook")
    ((_, _, body),) = receiver.requests
    assert json.loads(body)["counts"] == {"renamed": 1, "changed": 1}


def test_backoff_doubles_up_to_six_hours() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert backoff(20) == timedelta(hours=6)
