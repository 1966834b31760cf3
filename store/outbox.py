"""The outbox tables: ``deliveries`` (digests waiting, sent or failed) and ``notifier_cursors``.

A cursor is a position in (xid, id) order, and :func:`events_after` reads up to a committed
high-water mark: no event is skipped or taken twice, and no event writer ever waits.

Only SQL lives here; when to write and what to send is ``notifiers/outbox.py``. A delivery
moves ``pending`` → ``sent``, or ``pending`` → ``failed`` after its last allowed attempt
(``requeue`` makes it ``pending`` again). Two rules keep one digest from going out twice:

* the cursor moves by compare-and-set (:func:`move_cursor`): of two runners that read the
  same cursor, one writes a delivery and the other's transaction is rolled back;
* a sender **claims** a delivery before sending it (:func:`claim`): ``next_attempt_at`` is
  pushed one lease ahead by a conditional UPDATE, so a second sender finds it not due. A
  sender killed mid-send leaves the lease to run out, and the delivery is sent again then
  (with the same idempotency key, so that the receiver can drop the repeat).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, CursorResult, Select, cast as sql_cast, func, literal_column, or_, select, tuple_, update
from sqlalchemy.orm import Session

from store.locks import lock_name
from store.models import Delivery, Event, JobState, NotifierCursor, Source

__all__ = [
    "STATUSES", "START", "Position", "read_cursor", "position", "position_before", "start_cursor", "last_list_start", "move_cursor", "events_after", "wait_for_mark", "add_delivery", "due_deliveries",
    "claim", "mark_sent", "with_children", "mark_attempt_failed", "requeue", "requeue_failed", "deliveries", "get_delivery",
]

STATUSES = ("pending", "sent", "failed")

# A place in the order digests read events: (xid, id) of the last event taken.
Position = tuple[int, int]
START: Position = (0, 0)
# Every transaction of this database with a smaller xid has finished: the least of the
# snapshot's xmax and of the xids it sees running, less those of sessions connected to another
# database (a session writes only its own database, so those never write our events). An xid
# that cannot be placed (finished meanwhile, prepared) is kept. xid8 casts to bigint through text.
HIGH_WATER_MARK = sql_cast(literal_column(
    "(SELECT least(pg_snapshot_xmax(s), (SELECT min(x) FROM pg_snapshot_xip(s) AS x WHERE NOT EXISTS ("
    "SELECT 1 FROM pg_stat_activity AS a WHERE a.backend_xid = x::xid"
    " AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))))::text"
    " FROM pg_current_snapshot() AS s)"
), BigInteger)


def read_cursor(session: Session, notifier_id: str) -> NotifierCursor | None:
    return session.get(NotifierCursor, notifier_id)


def position_before(session: Session, before: datetime | None) -> Position:
    """The position of the last visible event created before ``before`` (None: of every visible event).

    No high-water mark here: a cursor put there skips what was written before it on purpose.
    Every transaction that starts later has a larger xid, so what is written after this
    moment always sorts after the cursor.
    """
    query = select(Event.xid, Event.id)
    if before is not None:
        query = query.where(Event.created_at < before)
    row = session.execute(query.order_by(Event.xid.desc(), Event.id.desc()).limit(1)).first()
    return (int(row[0]), int(row[1])) if row else START


def start_cursor(session: Session, notifier_id: str, at: Position, now: datetime) -> NotifierCursor:
    """The first cursor of a notifier, at ``at``; a concurrent first insert makes the commit fail."""
    cursor = NotifierCursor(notifier_id=notifier_id, last_event_xid=at[0], last_event_id=at[1], updated_at=now)
    session.add(cursor)
    session.flush()
    return cursor


def last_list_start(session: Session, source_ids: Sequence[str] | None) -> datetime | None:
    """When the latest run of one of these lists (None: of any list) started, from ``job_state``."""
    query = select(func.max(JobState.last_started_at))
    if source_ids is None:
        query = query.where(JobState.job_id.like(lock_name("source", "%")))
    else:
        query = query.where(JobState.job_id.in_([lock_name("source", source_id) for source_id in source_ids]))
    return session.scalar(query)


def move_cursor(session: Session, notifier_id: str, seen: NotifierCursor | None, last: Position, now: datetime) -> bool:
    """Move the cursor from what was read (``seen``) to the position ``last``; False if someone else moved it first.

    A first cursor is inserted: a concurrent insert makes the commit fail, which rolls the
    caller's delivery back just the same.
    """
    if seen is None:
        session.add(NotifierCursor(notifier_id=notifier_id, last_event_xid=last[0], last_event_id=last[1], updated_at=now))
        session.flush()
        return True
    # Session.execute is typed for any statement; an UPDATE's result is a CursorResult (rowcount).
    moved = cast("CursorResult[Any]", session.execute(
        update(NotifierCursor)
        .where(NotifierCursor.notifier_id == notifier_id, NotifierCursor.last_event_xid == seen.last_event_xid,
               NotifierCursor.last_event_id == seen.last_event_id, NotifierCursor.updated_at == seen.updated_at)
        .values(last_event_xid=last[0], last_event_id=last[1], updated_at=now),
        execution_options={"synchronize_session": False},
    )).rowcount
    return moved == 1


def events_after(
    session: Session, after: Position, *, source_ids: Sequence[str] | None = None, kinds: Sequence[str] | None = None, limit: int,
) -> list[Event]:
    """Committed events after the position ``after`` in (xid, id) order, below the high-water mark.

    Exact without a lock, because the set of events before the mark never changes again:

    * the mark comes from this statement's own snapshot: every transaction with a smaller
      xid had finished when the snapshot was taken, or is one of another database's (whose
      sessions never write here), so each event with ``xid < mark`` is either visible to this
      statement or rolled back for good;
    * every event not yet visible belongs to a transaction of this database still running
      (its xid is at least the mark) or not yet started (its xid will be larger than any
      handed out so far, and so than the mark): it sorts after every event read here, whatever its id;
    * a cursor moved to the last event read therefore has nothing after it that can sort
      before it later, and nothing before it that was not read once. Marks only grow.

    An id alone would not do: ids are handed out at insert, so event 11 may commit after
    event 12. The writer's xid orders events by transaction instead, and no writer waits for
    a reader. SQLite stores xid 0 (one writer at a time: its ids commit in order), so there
    the order is the id's and every committed event is below the mark.
    """
    query = select(Event).where(tuple_(Event.xid, Event.id) > tuple_(*after))
    if session.get_bind().dialect.name == "postgresql":
        _forget_activity(session)
        query = query.where(Event.xid < HIGH_WATER_MARK)
    if source_ids is not None:
        query = query.where(or_(Event.source_id.in_(list(source_ids)), Event.source_id.is_(None)))
    if kinds is not None:
        query = query.where(Event.kind.in_(list(kinds)))
    return list(session.scalars(query.order_by(Event.xid, Event.id).limit(limit)))


def wait_for_mark(session: Session, after: Position, timeout_s: float) -> bool:
    """Wait until the events already committed after ``after`` are below the mark; False at the timeout.

    An older transaction of this database still writing holds the mark back (one of
    another database on the same server does not). The digest waits for it a little, so that
    the events of a run that has just committed go out now; what is still behind at the
    timeout goes out in a later digest. Writers never wait for this.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    newest = session.scalar(select(func.max(Event.xid)).where(tuple_(Event.xid, Event.id) > tuple_(*after)))
    deadline = time.monotonic() + timeout_s
    while newest is not None and _mark(session) <= newest:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)  # each statement takes a new snapshot (READ COMMITTED)
    return True


def _mark(session: Session) -> int:
    _forget_activity(session)
    return int(session.scalar(select(HIGH_WATER_MARK)) or 0)


def _forget_activity(session: Session) -> None:
    """Make the next look at ``pg_stat_activity`` fresh: PostgreSQL keeps one copy a transaction,
    which would miss a transaction of another database begun since and hold the mark behind it."""
    session.execute(select(func.pg_stat_clear_snapshot()))


def position(cursor: NotifierCursor | None) -> Position:
    """Where a notifier's next digest starts: after (xid, id) of the last event it took."""
    return (cursor.last_event_xid, cursor.last_event_id) if cursor else START


def with_children(session: Session, source_ids: Sequence[str]) -> list[str]:
    """``source_ids`` and the ids of the lists found on those that are index pages (``parent_id``)."""
    children = session.scalars(select(Source.id).where(Source.parent_id.in_(list(source_ids))))
    return sorted({*source_ids, *children})


def add_delivery(
    session: Session, *, notifier_id: str, now: datetime, event_ids: Sequence[int], idempotency_key: str, payload: dict[str, Any],
) -> Delivery:
    delivery = Delivery(
        notifier_id=notifier_id, created_at=now, status="pending", first_event_id=min(event_ids, default=None),
        last_event_id=max(event_ids, default=None), event_count=len(event_ids), attempts=0, next_attempt_at=now,
        idempotency_key=idempotency_key, payload=payload,
    )
    session.add(delivery)
    session.flush()
    return delivery


def due_deliveries(session: Session, now: datetime, *, notifier_ids: Sequence[str] | None = None, delivery_id: int | None = None) -> list[int]:
    """Ids of pending deliveries whose next attempt is due, oldest first."""
    query = select(Delivery.id).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
    if notifier_ids is not None:
        query = query.where(Delivery.notifier_id.in_(list(notifier_ids)))
    if delivery_id is not None:
        query = query.where(Delivery.id == delivery_id)
    return list(session.scalars(query.order_by(Delivery.id)))


def claim(session: Session, delivery_id: int, now: datetime, lease: timedelta) -> Delivery | None:
    """Take a due delivery for sending until ``now + lease``; None when another sender has it."""
    taken = cast("CursorResult[Any]", session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .values(next_attempt_at=now + lease),
        execution_options={"synchronize_session": False},
    )).rowcount
    return session.get(Delivery, delivery_id) if taken == 1 else None


def mark_sent(session: Session, delivery_id: int, now: datetime) -> None:
    session.execute(
        update(Delivery).where(Delivery.id == delivery_id)
        .values(status="sent", sent_at=now, attempts=Delivery.attempts + 1, next_attempt_at=None, last_error=None),
        execution_options={"synchronize_session": False},
    )


def mark_attempt_failed(session: Session, delivery_id: int, error: str, *, next_attempt_at: datetime, give_up: bool) -> None:
    """Record one failed attempt: due again at ``next_attempt_at``, or ``failed`` when ``give_up``."""
    session.execute(
        update(Delivery).where(Delivery.id == delivery_id)
        .values(attempts=Delivery.attempts + 1, last_error=error, status="failed" if give_up else "pending",
                next_attempt_at=None if give_up else next_attempt_at),
        execution_options={"synchronize_session": False},
    )


def requeue(session: Session, delivery_id: int, now: datetime) -> bool:
    """Make a failed delivery pending and due now; False when it is not failed."""
    done = cast("CursorResult[Any]", session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "failed").values(status="pending", next_attempt_at=now),
        execution_options={"synchronize_session": False},
    )).rowcount
    return done == 1


def requeue_failed(session: Session, notifier_id: str, now: datetime) -> int:
    """Make every failed delivery of a notifier pending and due now (its channel works again)."""
    return cast("CursorResult[Any]", session.execute(
        update(Delivery).where(Delivery.notifier_id == notifier_id, Delivery.status == "failed").values(status="pending", next_attempt_at=now),
        execution_options={"synchronize_session": False},
    )).rowcount


def deliveries(session: Session, *, statuses: Sequence[str] = (), notifier_id: str | None = None, limit: int = 50) -> list[Delivery]:
    """The outbox, newest first."""
    query: Select[tuple[Delivery]] = select(Delivery)
    if statuses:
        query = query.where(Delivery.status.in_(list(statuses)))
    if notifier_id is not None:
        query = query.where(Delivery.notifier_id == notifier_id)
    return list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


def get_delivery(session: Session, delivery_id: int) -> Delivery | None:
    return session.get(Delivery, delivery_id)
