"""A transaction of another database on the same PostgreSQL does not hold digests back.

xids are cluster-wide: a bulk write or an idle-in-transaction session of another application
on a shared server has an xid older than our events, but it can never write our events.
(That a transaction of OUR database still holds the mark is test_outbox_mark.py's.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

import store.outbox as store
from notifiers.outbox import deliver_notifier
from store.database import open_engine, session_factory, transaction
from tests.conftest import fresh_database
from tests.notifiers.servers import Receiver
from tests.notifiers.world import World, add_event, delivered_ids, later, webhook_notifier


@pytest.fixture
def other_database(tmp_path: Path) -> Iterator[Engine]:
    """Another database of the same cluster, as another application on a shared server."""
    with fresh_database("postgresql", tmp_path / "other", prefix="sesaku_other") as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def open_elsewhere(other_database: Engine) -> Iterator[Any]:
    """Starts a transaction with an xid in the other database, kept open until the test ends."""
    connections: list[Connection] = []

    def start() -> None:
        connection = other_database.connect()
        connections.append(connection)
        connection.begin()
        connection.execute(text("SELECT pg_current_xact_id()"))

    yield start
    for connection in connections:
        connection.close()


def committed_event(url: str, name: str, source_id: str | None = "tama") -> int:
    engine = create_engine(url)
    with engine.begin() as connection:
        event_id = add_event(connection, name, source_id)
    engine.dispose()
    return event_id


def test_a_digest_is_not_held_back_by_an_open_transaction_of_another_database(
    site: Any, postgres_url: str, open_elsewhere: Any, receiver: Receiver,
) -> None:
    world = World(site, postgres_url)
    config, sessions = world.config(webhook_notifier(receiver.base + "/ok"))
    world.baseline_then_revision(config, sessions)
    open_elsewhere()  # older than the event below, and still open while the digest runs
    event_id = committed_event(postgres_url, "別のデータベースの取引の後の事業")
    started = time.monotonic()
    run = deliver_notifier(config, sessions, later(1), "hook", mark_wait_s=5)
    assert time.monotonic() - started < 4, "the digest waited for another database's transaction"
    assert run.prepared
    assert event_id in delivered_ids(receiver)


def test_the_wait_sees_a_transaction_of_another_database_begun_after_its_first_look(
    postgres_url: str, open_elsewhere: Any,
) -> None:
    engine = open_engine(postgres_url)
    with transaction(session_factory(engine)) as session:
        assert store.events_after(session, store.START, limit=1) == []  # the first look at who runs what
        open_elsewhere()  # begun after it: PostgreSQL's per-transaction copy of pg_stat_activity lacks it
        event_id = committed_event(postgres_url, "後から始まった取引の後の事業", source_id=None)
        assert store.wait_for_mark(session, store.START, 2.0)
        assert [event.id for event in store.events_after(session, store.START, limit=10)] == [event_id]
    engine.dispose()
