"""A notifier added to a database with history: its first digest is news, not the archive."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from monitor.runtime.check import run_check
from monitor.runtime.jobs import run_source_job
from notifiers.outbox import notifier_job
from store.database import transaction
from store.models import Event
from tests.conftest import TAMA, seed_text
from tests.notifiers.servers import Receiver
from tests.notifiers.world import World, webhook_notifier
from tests.runtime.test_check import publish
from tests.versions import derive, set_cell


def events(sessions: Any) -> list[Event]:
    with transaction(sessions) as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def bodies(receiver: Receiver) -> dict[str, dict[str, Any]]:
    return {path: json.loads(body) for path, _, body in receiver.requests}


def test_a_new_notifier_starts_from_now_or_from_its_since(world: World, receiver: Receiver) -> None:
    config, sessions = world.config()  # watched for a while without any notifier
    world.baseline_then_revision(config, sessions)
    history = events(sessions)
    assert len(history) == 2

    publish(world.site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, "土地区画整理事業", 3, "03-5320-1111")))
    since = history[0].created_at.isoformat()
    config, _ = world.config(
        webhook_notifier(receiver.base + "/new", id="new"),
        webhook_notifier(receiver.base + "/since", id="since", since=since),
        webhook_notifier(receiver.base + "/archive", id="archive", since="2000-01-01"),
    )
    report = run_check(config, sessions, clock=world.tick)
    fresh = [e.id for e in events(sessions) if e.id > history[-1].id]
    assert fresh and {n.id: n.written for n in report.notifiers or []} == {"new": 1, "since": 1, "archive": 1}

    got = bodies(receiver)
    assert got["/new"]["event_ids"] == fresh  # this run's events only, none of the history
    assert got["/since"]["event_ids"] == [e.id for e in history] + fresh
    assert got["/archive"]["event_ids"] == got["/since"]["event_ids"]

    # Seen once, a notifier goes on from its cursor: a run with nothing new sends nothing more.
    run_check(config, sessions, clock=world.tick)
    assert len(receiver.requests) == 3


def test_a_worker_first_seeing_a_notifier_keeps_its_start(world: World, receiver: Receiver) -> None:
    """The fleet's units run alone (no check before them): the first look at a notifier fixes where it starts."""
    config, sessions = world.config()
    world.baseline_then_revision(config, sessions)
    config, _ = world.config(webhook_notifier(receiver.base + "/new", id="new"))
    moment = world.tick()
    assert notifier_job(config, sessions, moment, "new").prepared == []  # first seen: nothing of the history

    publish(world.site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, "土地区画整理事業", 3, "03-5320-1111")))
    run_source_job(config, sessions, world.tick(), "tama")
    later = world.tick() + timedelta(hours=1)
    assert len(notifier_job(config, sessions, later, "new").sent) == 1
    fresh = [e.id for e in events(sessions) if e.created_at > moment]
    assert fresh and bodies(receiver)["/new"]["event_ids"] == fresh
