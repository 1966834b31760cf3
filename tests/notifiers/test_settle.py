"""The scheduled notifier job (daemon and fleet alike) lets a wave of list runs settle before its digest."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from monitor.runtime.check import run_check
from notifiers.outbox import notifier_job
from store.database import transaction
from store.jobstate import record_start
from store.models import JobState
from tests.notifiers.servers import Receiver
from tests.notifiers.world import World, revise, rows, webhook_notifier


def list_started(sessions: Any, at: datetime | None = None) -> datetime:
    """When the list's last run started (moved to ``at`` when given: another list of the wave starting)."""
    with transaction(sessions) as session:
        if at is not None:
            record_start(session, "source:tama", at)
        return session.get(JobState, "source:tama").last_started_at


def test_the_digest_waits_until_no_list_started_for_settle_s(world: World, receiver: Receiver) -> None:
    config, sessions = world.config(webhook_notifier(receiver.base + "/ok", settle_s=30))
    run_check(config, sessions, clock=world.tick)
    revise(world.site)
    run_check(config, sessions, clock=world.tick, notify=False)  # the wave's events, not yet sent
    started = list_started(sessions)

    assert notifier_job(config, sessions, started + timedelta(seconds=10), "hook").prepared == []
    # Another list of the wave starts: the wait starts again from it.
    list_started(sessions, started + timedelta(seconds=25))
    assert notifier_job(config, sessions, started + timedelta(seconds=40), "hook").prepared == []
    assert receiver.requests == []

    sent = notifier_job(config, sessions, started + timedelta(seconds=56), "hook")
    assert len(sent.prepared) == 1 and len(sent.sent) == 1 and len(receiver.requests) == 1
    assert [row.event_count for row in rows(sessions)] == [2]


def test_lists_that_never_stop_starting_hold_the_digest_back_at_most_ten_settles(world: World, receiver: Receiver) -> None:
    config, sessions = world.config(webhook_notifier(receiver.base + "/ok", settle_s=30))
    run_check(config, sessions, clock=world.tick)
    revise(world.site)
    run_check(config, sessions, clock=world.tick, notify=False)
    started = list_started(sessions)

    late = started + timedelta(seconds=10 * 30 + 1)  # the events are older than 10 × settle_s by now
    list_started(sessions, late - timedelta(seconds=1))
    assert len(notifier_job(config, sessions, late, "hook").sent) == 1


def test_settle_s_0_and_the_notify_command_never_wait(world: World, receiver: Receiver) -> None:
    config, sessions = world.config(webhook_notifier(receiver.base + "/ok", settle_s=0))
    run_check(config, sessions, clock=world.tick)
    revise(world.site)
    run_check(config, sessions, clock=world.tick, notify=False)
    started = list_started(sessions)
    assert len(notifier_job(config, sessions, started + timedelta(seconds=1), "hook").sent) == 1
