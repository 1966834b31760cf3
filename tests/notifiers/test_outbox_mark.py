"""Digests read up to a committed high-water mark (real PostgreSQL, concurrent writers).

Event ids are handed out at insert: a writer may hold an uncommitted event with a smaller id
while a later writer's event commits. The digest must neither wait for it, nor skip it, nor
send anything twice; and a writer must never wait for a digest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select, text

from notifiers import outbox
from notifiers.outbox import deliver_notifier
from store.copy import copy_database
from store.database import open_engine, session_factory, transaction
from store.models import Event, NotifierCursor
from tests.notifiers.servers import Receiver
from tests.notifiers.world import World, add_event, delivered_ids, later, webhook_notifier
from tests.runtime.test_check import T0


@pytest.fixture
def writers(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


def in_thread(work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        outcome["run"] = work()
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_a_late_commit_with_a_smaller_id_goes_in_the_next_digest_and_nothing_waits(
    site: Any, postgres_url: str, writers: Engine, receiver: Receiver,
) -> None:
    world = World(site, postgres_url)
    config, sessions = world.config(webhook_notifier(receiver.base + "/ok"))
    world.baseline_then_revision(config, sessions)
    before = delivered_ids(receiver)
    early = writers.connect()
    try:
        early.begin()
        held = add_event(early, "遅れて確定する事業")  # the smaller id, not committed yet
        with writers.begin() as late:
            committed = add_event(late, "先に確定する事業")
        assert held < committed
        thread, outcome = in_thread(lambda: deliver_notifier(config, sessions, later(1), "hook", mark_wait_s=0.3))
        thread.join(timeout=5)
        assert not thread.is_alive(), "the digest waited for the writer's open transaction"
        assert outcome["seconds"] < 2 and outcome["run"].prepared == []  # nothing before the mark yet
        early.commit()
    finally:
        early.close()
    assert deliver_notifier(config, sessions, later(2), "hook").prepared
    assert deliver_notifier(config, sessions, later(3), "hook").prepared == []
    ids = delivered_ids(receiver)
    assert sorted(ids[len(before):]) == [held, committed]
    assert len(ids) == len(set(ids))  # nothing twice


def test_the_digest_waits_briefly_for_an_older_writer_and_takes_both_events(
    site: Any, postgres_url: str, writers: Engine, receiver: Receiver,
) -> None:
    world = World(site, postgres_url)
    config, sessions = world.config(webhook_notifier(receiver.base + "/ok"))
    world.baseline_then_revision(config, sessions)
    before = len(delivered_ids(receiver))
    early = writers.connect()
    try:
        early.begin()
        held = add_event(early, "遅れて確定する事業")
        with writers.begin() as late:
            committed = add_event(late, "先に確定する事業")
        thread, outcome = in_thread(lambda: deliver_notifier(config, sessions, later(1), "hook", mark_wait_s=10))
        time.sleep(0.5)
        early.commit()
    finally:
        early.close()
    thread.join(timeout=15)
    assert len(outcome["run"].prepared) == 1 and outcome["seconds"] >= 0.5
    assert sorted(delivered_ids(receiver)[before:]) == [held, committed]


def test_a_writer_never_waits_for_a_digest_being_written(
    site: Any, postgres_url: str, writers: Engine, receiver: Receiver, monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(site, postgres_url)
    config, sessions = world.config(webhook_notifier(receiver.base + "/ok"))
    world.baseline_then_revision(config, sessions)
    with writers.begin() as connection:
        first = add_event(connection, "一件目")
    rendering = threading.Event()
    real_render = outbox.render

    def slow_render(*args: Any, **kwargs: Any) -> Any:
        rendering.set()
        time.sleep(1.0)  # the digest's transaction stays open meanwhile
        return real_render(*args, **kwargs)

    monkeypatch.setattr(outbox, "render", slow_render)
    thread, outcome = in_thread(lambda: deliver_notifier(config, sessions, later(1), "hook"))
    assert rendering.wait(10)
    started = time.monotonic()
    with writers.begin() as connection:
        connection.execute(text("SET LOCAL lock_timeout = '500ms'"))
        second = add_event(connection, "二件目")
    assert time.monotonic() - started < 0.5
    thread.join(timeout=15)
    monkeypatch.setattr(outbox, "render", real_render)
    assert deliver_notifier(config, sessions, later(2), "hook").prepared
    ids = delivered_ids(receiver)
    assert first in ids and second in ids and len(ids) == len(set(ids))


def test_db_copy_turns_xids_into_0_and_keeps_every_undelivered_event(
    site: Any, postgres_url: str, writers: Engine, tmp_path: Path,
) -> None:
    world = World(site, postgres_url)
    config, sessions = world.config()
    world.baseline_then_revision(config, sessions)
    first_xid = writers.connect()
    try:
        first_xid.begin()
        first_xid.execute(text("SELECT pg_current_xact_id()"))  # this writer's xid is the smaller one
        with writers.begin() as connection:
            smaller_id = add_event(connection, "後の取引、小さい番号")
        larger_id = add_event(first_xid, "先の取引、大きい番号")
        first_xid.commit()
    finally:
        first_xid.close()
    with transaction(sessions) as session:
        # Delivered up to the larger id (the earlier transaction), not the smaller one.
        xid = session.scalar(select(Event.xid).where(Event.id == larger_id))
        session.add(NotifierCursor(notifier_id="team", last_event_xid=xid, last_event_id=larger_id, updated_at=T0))
    target = open_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    assert all(result.verified for result in copy_database(open_engine(postgres_url), target))
    with transaction(session_factory(target)) as session:
        assert set(session.scalars(select(Event.xid))) == {0}
        cursor = session.get(NotifierCursor, "team")
        assert cursor is not None and (cursor.last_event_xid, cursor.last_event_id) == (0, smaller_id - 1)
