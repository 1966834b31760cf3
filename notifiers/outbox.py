"""The outbox: write each digest to the database with the cursor move, then send it.

Two steps, so that nothing is lost and nothing goes out twice:

1. :func:`prepare_delivery`, one transaction: read the events after the notifier's cursor
   (its sources and kinds only; up to a committed high-water mark, without a lock:
   :func:`store.outbox.events_after`), build and render the digest, insert a ``pending``
   delivery holding the rendered message (never an option, so never a secret) and move the
   cursor past those events. A crash before the commit leaves the events for next time; a
   crash after it leaves a delivery that the next run sends.
2. :func:`send_pending`: claim each due delivery, send it, record ``sent`` or the failed
   attempt with its one-line error and the time of the next try (exponential backoff,
   stored, so a restart keeps it). After ``max_attempts`` it is ``failed``: still listed by
   ``sesaku-monitor deliveries``, sent again by ``deliveries --retry ID`` or as soon as a
   later digest of the same notifier goes through.

:func:`deliver_notifier` is the scheduler's unit of work ("deliver one notifier's digest").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.errors import ConfigError, NotifyError
from monitor.secrets import redact
from monitor.schedule import ScheduleSpec, is_due
from store import outbox as store
from store.database import SessionFactory, retry_when_locked, transaction
from store.ending import Ending, ending_between
from store.link_repairs import repairs_of
from store.siblings import siblings_of
from store.models import Event, NotifierCursor
from store.queries import source_titles

from monitor.config.notifiers import NotifierConfig
from notifiers.digest import ALSO_IN_KINDS, Digest, build_digest, ending_range
from monitor.events import EventView
from notifiers.registry import send
from notifiers.render import Message, render

__all__ = [
    "FIRST_RETRY", "LAST_RETRY", "MARK_WAIT_S", "MAX_EVENTS", "SEND_LEASE", "SETTLE_CAP", "TICK", "DeliveryRun", "backoff",
    "deliver_all", "deliver_notifier", "notifier_ids", "notifier_job", "notifier_tick", "prepare_delivery", "preview", "retry_delivery",
    "run_error", "send_pending", "send_test", "start_cursors", "wave_settling",
]

log = logging.getLogger("sesaku_monitor.notifiers")

FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=6)
# Longer than any one send can take (SMTP timeouts are at most 300 s an operation).
SEND_LEASE = timedelta(minutes=15)
# A digest holds at most this many events; a longer backlog becomes several digests.
MAX_EVENTS = 500
# How long a digest waits for older transactions still writing, so that a run's events go out
# right after it (store.outbox.wait_for_mark); later events are never lost, only left for the next digest.
MARK_WAIT_S = 5.0
# An after_run digest waits for a wave of list runs to settle (notifiers[].settle_s), but never
# longer than this many times settle_s after its oldest event: lists that never stop starting
# (a fleet of thousands) must not hold the news back for good.
SETTLE_CAP = 10
# How often the daemon looks at each notifier: scheduled digests and retries fall due in between.
TICK = ScheduleSpec(every=timedelta(minutes=1))


@dataclass(slots=True)
class DeliveryRun:
    """What one pass over a notifier did: deliveries written, sent, and failed attempts."""

    notifier_id: str
    prepared: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    error: str | None = None  # the digest could not be written (a template error)
    events: dict[int, int] = field(default_factory=dict)  # delivery id -> its number of events

    def describe(self) -> str:
        """What the pass did, for a log line: ``delivery 7 written (5 events); delivery 7 sent (5 events)``."""
        parts = [f"delivery {i} written ({self.events.get(i, 0)} events)" for i in self.prepared]
        parts += [f"delivery {i} sent ({self.events.get(i, 0)} events)" for i in self.sent]
        parts += [f"delivery {i} failed: {error}" for i, error in self.failed]
        if self.error:
            parts.append(f"no digest: {self.error}")
        return "; ".join(parts) or "nothing to send"


class _LostRace(Exception):
    """Another runner moved the cursor first: roll this digest back, theirs stands."""


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1 min, 2, 4 … up to 6 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


# --- reading the events a digest is made of ------------------------------------------------


def _wanted(event: Event, sources: list[str] | None) -> bool:
    """A link event has no source: it belongs to a notifier when a measure of its lists cites it."""
    if sources is None or event.source_id is not None:
        return True
    measures = [m for m in (event.payload or {}).get("measures") or [] if isinstance(m, dict)]
    return not measures or any(m.get("source_id") in sources for m in measures)


def _view(event: Event, titles: dict[str, str]) -> EventView:
    title = titles.get(event.source_id) if event.source_id else None
    return EventView(event.id, event.kind, event.created_at, event.payload or {}, event.source_id, title, event.measure_id, event.link_id)


def _read(session: Session, notifier: NotifierConfig, after: store.Position) -> tuple[list[EventView], store.Position, bool]:
    """The notifier's events after ``after``, the position the cursor may move to, and whether more are waiting."""
    sources = store.with_children(session, notifier.sources) if notifier.sources is not None else None
    rows = store.events_after(session, after, source_ids=sources, kinds=notifier.kinds, limit=MAX_EVENTS)
    titles = source_titles(session) if rows else {}
    views = [_view(row, titles) for row in rows if _wanted(row, sources)]
    return views, ((rows[-1].xid, rows[-1].id) if rows else after), len(rows) >= MAX_EVENTS


def _start(session: Session, config: Config, notifier: NotifierConfig) -> store.Position:
    """Where a notifier without a cursor starts: at its ``since:``, else after every event already committed.

    So a notifier added to a database with years of history sends news, not the archive.
    """
    return store.position_before(session, notifier.since_at(config.tz))


def _after(session: Session, config: Config, notifier: NotifierConfig, cursor: NotifierCursor | None) -> store.Position:
    return store.position(cursor) if cursor else _start(session, config, notifier)


def start_cursors(config: Config, sessions: SessionFactory, now: datetime) -> list[str]:
    """Give each notifier seen for the first time its cursor (see :func:`_start`); the ids started.

    Runners call this before their first list run, so that the events of that run are news.
    """
    return [notifier.id for notifier in config.notifiers if _first_seen(config, sessions, notifier, now)]


def _first_seen(config: Config, sessions: SessionFactory, notifier: NotifierConfig, now: datetime) -> bool:
    """Start this notifier's cursor if it has none; whether it was started now."""
    def start() -> bool:
        with transaction(sessions) as session:
            if store.read_cursor(session, notifier.id) is not None:
                return False
            store.start_cursor(session, notifier.id, _start(session, config, notifier), now)
            return True
    try:
        started = retry_when_locked(start, wait_s=config.database.busy_timeout_s)
    except IntegrityError:
        return False  # another runner started it at the same moment
    if started:
        log.info("notifier %s: first seen, its digests start here", notifier.id)
    return started


def _digest(session: Session, config: Config, notifier: NotifierConfig, events: Sequence[EventView], now: datetime, quiet: bool) -> Digest:
    days = notifier.ending_within_days
    # The ending-soon section is read only for a digest that goes out: it never makes one be sent.
    ending = _ending(session, notifier, now, config) if days and (events or (quiet and notifier.all_quiet)) else []
    return build_digest(
        notifier.id, events, now=now, language=notifier.language, base_url=notifier.base_url or config.web.base_url,
        all_quiet=quiet, tz=config.tz, ending_days=days, ending=ending,
        repairs=repairs_of(session, [event.link_id for event in events if event.kind == "link_dead" and event.link_id]),
        siblings=siblings_of(session, [event.measure_id for event in events if event.kind in ALSO_IN_KINDS and event.measure_id]),
    )


def _ending(session: Session, notifier: NotifierConfig, now: datetime, config: Config) -> list[Ending]:
    """The measures of the notifier's lists (its ``sources:``, with their children) ending within its days."""
    first, last = ending_range(now, notifier.ending_within_days or 0, config.tz)
    if notifier.sources is None:
        return ending_between(session, first, last)
    # One read per list, so that other lists' measures never crowd these out of the read's limit.
    endings = [e for source in store.with_children(session, notifier.sources) for e in ending_between(session, first, last, source_id=source)]
    return sorted(endings, key=lambda e: (e.end_date, e.source_id, e.measure_id))


def _payload(message: Message) -> dict[str, Any]:
    """What a retry needs to send the same message again: the rendered parts, nothing of the options."""
    return {"subject": message.subject, "text": message.text, "html": message.html, "json": message.json}


def _message(payload: dict[str, Any]) -> Message:
    return Message(payload["subject"], payload["text"], payload["html"], payload["json"])


# --- step 1: write the digest with the cursor move -------------------------------------------


def prepare_delivery(
    config: Config, sessions: SessionFactory, now: datetime, notifier_id: str, *, quiet: bool = False, mark_wait_s: float | None = MARK_WAIT_S,
) -> tuple[int | None, bool]:
    """Write the next digest of a notifier as a pending delivery, in one transaction with the cursor move.

    ``quiet``: write an all-quiet digest when there is nothing to say (if the notifier asks
    for those; never while events wait behind an older transaction: they are news).
    ``mark_wait_s``: how long to wait for such a transaction; None: the caller has just waited
    (and ``quiet`` says whether none was left). Returns the new delivery's id (None: nothing to send, or another runner
    wrote it first) and whether more events are waiting beyond :data:`MAX_EVENTS`.
    """
    notifier = config.notifier(notifier_id)
    try:
        with transaction(sessions) as session:
            cursor = store.read_cursor(session, notifier.id)
            settled = mark_wait_s is None or _settle(session, notifier.id, cursor, mark_wait_s)
            events, last, more = _read(session, notifier, _after(session, config, notifier, cursor))
            delivery_id = _write(session, config, notifier, events, now, quiet and notifier.all_quiet and settled)
            if not store.move_cursor(session, notifier.id, cursor, last, now):
                raise _LostRace
    except (IntegrityError, _LostRace):
        log.info("notifier %s: another runner wrote this digest first", notifier_id)
        return None, False
    return delivery_id, more


def _write(session: Session, config: Config, notifier: NotifierConfig, events: Sequence[EventView], now: datetime, quiet: bool) -> int | None:
    digest = _digest(session, config, notifier, events, now, quiet)
    if not digest.should_send:
        return None
    # Rendered now, in this transaction: a template error leaves the cursor where it was.
    message = render(digest, template_dir=notifier.template_dir)
    delivery = store.add_delivery(
        session, notifier_id=notifier.id, now=now, event_ids=digest.event_ids, idempotency_key=digest.idempotency_key, payload=_payload(message),
    )
    log.info("notifier %s: delivery %d written (%d events)", notifier.id, delivery.id, digest.total)
    return delivery.id


# --- step 2: send what is due ------------------------------------------------------------


def send_pending(config: Config, sessions: SessionFactory, now: datetime, *, notifier_ids: Sequence[str] | None = None, delivery_id: int | None = None) -> DeliveryRun:
    """Send every due pending delivery (of these notifiers, or this one delivery), oldest first."""
    run = DeliveryRun(",".join(notifier_ids) if notifier_ids else "*")
    tried: set[int] = set()
    while True:
        with transaction(sessions) as session:
            due = [i for i in store.due_deliveries(session, now, notifier_ids=notifier_ids, delivery_id=delivery_id) if i not in tried]
        if not due:
            return run
        for next_id in due:
            tried.add(next_id)
            _send_one(config, sessions, now, next_id, run)


def _send_one(config: Config, sessions: SessionFactory, now: datetime, delivery_id: int, run: DeliveryRun) -> None:
    with transaction(sessions) as session:
        delivery = store.claim(session, delivery_id, now, SEND_LEASE)
        if delivery is None:  # another sender took it
            return
        notifier_id, key, payload, attempts = delivery.notifier_id, delivery.idempotency_key, delivery.payload, delivery.attempts
        run.events[delivery_id] = delivery.event_count
    notifier = _configured(config, notifier_id)
    try:
        if notifier is None:
            raise NotifyError(f"notifier {notifier_id!r} is no longer configured")
        # The transport takes the wall clock: a webhook signature's timestamp must be the real sending time.
        send(_message(payload), notifier.options, key)
    except NotifyError as exc:
        _record_failure(sessions, now, delivery_id, notifier, attempts + 1, str(exc), run)
        return
    with transaction(sessions) as session:
        store.mark_sent(session, delivery_id, now)
        # The channel works again: earlier digests that had given up go out in this pass too.
        requeued = store.requeue_failed(session, notifier_id, now)
    log.info("delivery %d (%s) sent%s", delivery_id, notifier_id, f"; {requeued} failed one(s) queued again" if requeued else "")
    run.sent.append(delivery_id)


def _configured(config: Config, notifier_id: str) -> NotifierConfig | None:
    return next((n for n in config.notifiers if n.id == notifier_id), None)


def shown_error(error: str, notifier: NotifierConfig | None) -> str:
    """A send's error as stored and printed: one line, without a secret or the endpoint's path.

    A receiver's answer may quote the request (``Cannot POST /hooks/<token>``), and a chat
    webhook's path is its credential even when config.yaml spells it out.
    """
    text = redact(" ".join(error.split()))
    url = getattr(notifier.options, "url", None) if notifier else None
    path = urlsplit(str(url)).path if url else ""
    return text.replace(path, "/…") if len(path) > 1 else text


def _record_failure(sessions: SessionFactory, now: datetime, delivery_id: int, notifier: NotifierConfig | None, attempt: int, error: str, run: DeliveryRun) -> None:
    error = shown_error(error, notifier)
    give_up = notifier is not None and attempt >= notifier.max_attempts
    retry_at = now + backoff(attempt)
    with transaction(sessions) as session:
        store.mark_attempt_failed(session, delivery_id, error, next_attempt_at=retry_at, give_up=give_up)
    then = "gave up (failed)" if give_up else f"next try at {retry_at.isoformat(timespec='seconds')}"
    log.warning("delivery %d (%s) attempt %d failed: %s; %s", delivery_id, notifier.id if notifier else "?", attempt, error, then)
    run.failed.append((delivery_id, error))


# --- the unit of work, and the passes that call it ------------------------------------------


def _digest_due(session: Session, config: Config, notifier: NotifierConfig, cursor: NotifierCursor | None, now: datetime, after_run: bool) -> bool:
    """Whether a digest is owed: a scheduled one by its schedule, an ``after_run`` one when there is news.

    A read only: the daemon's every-minute look at an idle notifier writes nothing.
    """
    if notifier.schedule is not None:
        return is_due(notifier.schedule, cursor.updated_at if cursor else None, now, config.tz)
    if after_run and notifier.all_quiet:
        return True
    after = _after(session, config, notifier, cursor)
    return _read(session, notifier, after)[1] != after


def deliver_notifier(
    config: Config, sessions: SessionFactory, now: datetime, notifier_id: str, *, after_run: bool = False, mark_wait_s: float = MARK_WAIT_S,
    settle_wave: bool = False,
) -> DeliveryRun:
    """Write the digest this notifier is owed now (if any), then send its due deliveries.

    An ``after_run`` notifier writes one whenever there are new events, and an all-quiet one
    only when called right after a run (``after_run=True``: ``check`` does); a scheduled one
    writes one when its schedule falls due. Safe to call at any time and again after a crash.
    ``settle_wave`` (the scheduled job): an after_run digest waits while lists are still
    running (:func:`wave_settling`); due deliveries are sent all the same.
    """
    notifier = config.notifier(notifier_id)
    run = DeliveryRun(notifier.id)
    # Kept, not only computed: a runner that never called start_cursors (a worker, `notify`)
    # must not move a new notifier's start along with every look at it.
    _first_seen(config, sessions, notifier, now)
    with transaction(sessions) as session:
        cursor = store.read_cursor(session, notifier.id)
        settled = _settle(session, notifier.id, cursor, mark_wait_s)
        due = _digest_due(session, config, notifier, cursor, now, after_run)
        if due and settle_wave and wave_settling(session, config, notifier, cursor, now):
            log.info("notifier %s: lists still running, the digest waits %gs after the last one", notifier.id, notifier.settle_s)
            due = False
    quiet = (after_run if notifier.after_run else True) and settled
    while due:
        # Settled just above, once for the pass: waiting again would double the wait behind a long transaction.
        delivery_id, due = retry_when_locked(
            lambda: prepare_delivery(config, sessions, now, notifier.id, quiet=quiet, mark_wait_s=None), wait_s=config.database.busy_timeout_s,
        )
        if delivery_id is not None:
            run.prepared.append(delivery_id)
        quiet = False  # an all-quiet digest after a backlog would be a contradiction
    sent = send_pending(config, sessions, now, notifier_ids=[notifier.id])
    run.sent, run.failed, run.events = sent.sent, sent.failed, sent.events
    return run


def notifier_job(config: Config, sessions: SessionFactory, now: datetime, notifier_id: str) -> DeliveryRun:
    """The scheduler's unit of work (daemon and fleet): :func:`deliver_notifier` letting a wave settle."""
    return deliver_notifier(config, sessions, now, notifier_id, settle_wave=True)


def wave_settling(session: Session, config: Config, notifier: NotifierConfig, cursor: NotifierCursor | None, now: datetime) -> bool:
    """Whether an after_run digest should wait: one of its lists started a run less than
    ``settle_s`` ago, and its oldest waiting event is younger than :data:`SETTLE_CAP` × ``settle_s``.

    Read from ``job_state``, so every daemon and worker of a fleet sees the same wave.
    """
    if not notifier.after_run or notifier.settle_s <= 0:
        return False
    sources = store.with_children(session, notifier.sources) if notifier.sources is not None else None
    started = store.last_list_start(session, sources)
    if started is None or (now - started).total_seconds() >= notifier.settle_s:
        return False
    oldest = store.events_after(session, _after(session, config, notifier, cursor), source_ids=sources, kinds=notifier.kinds, limit=1)
    return not oldest or (now - oldest[0].created_at).total_seconds() < SETTLE_CAP * notifier.settle_s


def _settle(session: Session, notifier_id: str, cursor: NotifierCursor | None, timeout_s: float) -> bool:
    """Wait for older transactions still writing; False when events remain behind one."""
    if store.wait_for_mark(session, store.position(cursor), timeout_s):
        return True
    log.info("notifier %s: events behind a transaction still writing after %.0f s wait for the next digest", notifier_id, timeout_s)
    return False


def deliver_all(config: Config, sessions: SessionFactory, now: datetime) -> list[DeliveryRun]:
    """After a run: every notifier's owed digest, then every due delivery.

    One notifier's template error is logged and the others carry on; a failed send is
    already recorded in its delivery.
    """
    runs = []
    for notifier in config.notifiers:
        try:
            runs.append(deliver_notifier(config, sessions, now, notifier.id, after_run=True))
        except NotifyError as exc:
            log.error("notifier %s: %s", notifier.id, exc)
            runs.append(DeliveryRun(notifier.id, error=str(exc)))
    return runs


def retry_delivery(config: Config, sessions: SessionFactory, now: datetime, delivery_id: int) -> DeliveryRun:
    """Send a failed delivery (made pending again) or a due pending one now.

    A pending one that is not due is left alone: its ``next_attempt_at`` may be the lease of
    a sender busy with it right now, and sending it beside that one would send it twice.
    """
    with transaction(sessions) as session:
        delivery = store.get_delivery(session, delivery_id)
        if delivery is None:
            raise ConfigError(f"no delivery with id {delivery_id}")
        if delivery.status == "sent":
            raise ConfigError(f"delivery {delivery_id} was already sent at {_when(delivery.sent_at)}")
        if not store.requeue(session, delivery_id, now) and delivery.next_attempt_at and delivery.next_attempt_at > now:
            raise ConfigError(f"delivery {delivery_id} is pending, next try at {_when(delivery.next_attempt_at)} (being sent, or waiting after a failure)")
    return send_pending(config, sessions, now, delivery_id=delivery_id)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "?"


# --- for the daemon's job registry (monitor/jobs.py) ----------------------------------------


def notifier_ids(config: Config, sessions: SessionFactory) -> list[str]:
    return [notifier.id for notifier in config.notifiers]


def notifier_tick(config: Config, notifier_id: str) -> ScheduleSpec:
    """The job runs every :data:`TICK`; :func:`deliver_notifier` knows whether a digest is owed."""
    return TICK


# --- previews and test messages (write nothing to the outbox) --------------------------------


def preview(config: Config, sessions: SessionFactory, now: datetime, notifier_id: str) -> tuple[Digest, Message | None]:
    """The next digest of a notifier as it stands, and its message (None: nothing to send)."""
    notifier = config.notifier(notifier_id)
    with sessions() as session:
        cursor = store.read_cursor(session, notifier.id)
        _settle(session, notifier.id, cursor, MARK_WAIT_S)
        events, _, _ = _read(session, notifier, _after(session, config, notifier, cursor))
        digest = _digest(session, config, notifier, events, now, notifier.all_quiet)
        session.rollback()
    return digest, render(digest, template_dir=notifier.template_dir) if digest.should_send else None


def send_test(config: Config, now: datetime, notifier_id: str) -> Message:
    """Send an all-quiet digest marked as a test through the notifier; NotifyError says why not."""
    notifier = config.notifier(notifier_id)
    digest = build_digest(
        notifier.id, [], now=now, language=notifier.language, base_url=notifier.base_url or config.web.base_url, all_quiet=True, tz=config.tz,
    )
    message = render(digest, template_dir=notifier.template_dir)
    marked = "[TEST] " + message.subject
    message = replace(message, subject=marked, json={**message.json, "subject": marked, "test": True})
    send(message, notifier.options, f"test-{digest.idempotency_key}")
    return message


def run_error(run: DeliveryRun) -> str | None:
    """What the job records as its error: the digest could not be written, or a send failed."""
    if run.error:
        return run.error
    return "; ".join(f"delivery {delivery_id}: {error}" for delivery_id, error in run.failed) or None
