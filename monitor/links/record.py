"""Turning check results into rows: one ``link_checks`` row each, link state, events, snapshots.

``record_batch`` writes a batch of results inside the caller's transaction, so a crash loses
the batch in flight and never half a check. For each result:

1. the link's ``LinkState`` is advanced by ``monitor.links.outcome.next_state``;
2. the (capped) body of a healthy page goes to ``blobs`` when its hash changed, and a
   ``page_changed`` event is written when its text differs from the previous snapshot's;
3. a ``link_checks`` row records the check; the ``links`` row takes the new state and the
   time of its next check (``plan_next_check``, by state);
4. only transitions become events: ``link_dead``, ``link_recovered``, ``link_moved``.

``record_outage`` writes the network-level failures of a run judged to be our own outage
(``monitor.links.run``): a ``link_checks`` row each, but no change of state (no failure
counted toward ``dead_after``), a recheck at ``recheck_failing_h``, and one ``links_outage``
event for the whole run.

A dead link's ``dead_since`` is when its failing streak began (the first failing check),
not when ``dead_after`` was reached: that is when readers of the list lost the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from store.blobs import get_blob, put_blobs
from store.link_state import citing_measures
from store.models import Base, Event, Link
from store.outage_window import absolve_recent_failures, outage_announced

from monitor.links.checker import LinkCheckResult
from monitor.events import CitingMeasure, LinkDead, LinksOutage, LinkMoved, LinkOutcome, LinkRecovered, PageChanged, Payload
from monitor.links.outcome import HEALTHY, LinkState, Transition, next_state
from monitor.config.links import LinkSettings
from monitor.links.page_text import page_text, text_change
from monitor.report import LinkEntry, LinkReport

__all__ = ["link_state", "plan_next_check", "record_batch", "record_outage"]

# Written with Core, not as ORM objects: see _insert_checks and _update_links.
_CHECKS = Base.metadata.tables["link_checks"]

Measures = list[dict[str, Any]]
_EARLY = 0.05


@dataclass(slots=True)
class _LinkRow:
    """A ``links`` row as a batch reads and advances it: read and written with Core, since loading
    ORM objects for a batch (identity map, instance state, expunged again) cost as much as its UPDATE."""

    id: int
    url: str
    outcome: str | None
    http_status: int | None
    final_url: str | None
    last_checked_at: datetime | None
    last_ok_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    dead_since: datetime | None
    moved_to: str | None
    body_sha256: str | None
    next_check_at: datetime | None


def link_state(link: Link | _LinkRow) -> LinkState:
    """The state ``next_state`` reads, from a ``links`` row."""
    return LinkState(
        dead=link.dead_since is not None, consecutive_failures=link.consecutive_failures or 0,
        first_failure_at=link.failing_since, last_ok_at=link.last_ok_at, moved_to=link.moved_to,
        last_outcome=LinkOutcome(link.outcome) if link.outcome else None,
    )


def plan_next_check(state: LinkState, run_started: datetime, settings: LinkSettings) -> datetime:
    """When a link in ``state`` is checked next: healthy links rarely, suspect and dead ones sooner.

    Suspect means failing but not yet dead, or inconclusive (``blocked``): the next checks
    decide, so they come at ``recheck_failing_h``. A dead link is looked at every
    ``recheck_dead_h`` to notice its recovery.

    Counted from the start of the run, and due a twentieth of the interval early: a daily
    ``check`` from cron that starts a little earlier than yesterday's must still find
    yesterday's links due, not leave them for the day after.
    """
    if state.dead:
        interval = settings.recheck_dead
    elif state.consecutive_failures or state.last_outcome not in HEALTHY:
        interval = settings.recheck_failing
    else:
        interval = settings.recheck_healthy
    return run_started + interval * (1 - _EARLY)


def record_batch(session: Session, results: Sequence[LinkCheckResult], link_ids: Mapping[str, int],
                 settings: LinkSettings, report: LinkReport, run_started: datetime) -> None:
    """Write ``results`` (of URLs in ``link_ids``) and add their transitions to ``report``."""
    ids = [link_ids[result.url] for result in results]
    links = {row.id: _LinkRow(**row._mapping) for row in session.connection().execute(_READ_LINKS, {"ids": ids})}
    measures = _Citing(session, ids)
    if settings.snapshot_pages:
        put_blobs(session, [(r.body, r.checked_at) for link_id, r in zip(ids, results)
                            if r.body is not None and _changed_body(links[link_id], r)])
    # The batch's inserts and updates go out as a few statements, not a few per check (the
    # citations and blobs read on the way would flush the events added so far each time).
    with session.no_autoflush:
        checks = [_record(session, links[link_id], result, measures, settings, report, run_started)
                  for link_id, result in zip(ids, results)]
    _update_links(session, links.values())
    _insert_checks(session, checks)
    report.checked += len(results)


def record_outage(session: Session, results: Sequence[LinkCheckResult], link_ids: Mapping[str, int],
                  settings: LinkSettings, report: LinkReport, run_started: datetime, outage: LinksOutage | None) -> None:
    """Write failures that were our outage: checks kept, states untouched, rechecked soon; ``outage`` once."""
    ids = [link_ids[result.url] for result in results]
    links = {link.id: link for link in session.scalars(select(Link).where(Link.id.in_(ids)))}
    checks = []
    for link_id, result in zip(ids, results):
        checks.append(_check_row(link_id, result, f"not counted (our outage): {result.error or ''}"[:500], None))
        links[link_id].next_check_at = run_started + settings.recheck_failing * (1 - _EARLY)
    _insert_checks(session, checks)
    if outage is not None:
        absolve_recent_failures(session, run_started - settings.recheck_failing)
        if not outage_announced(session, run_started - settings.recheck_failing):
            session.add(Event(created_at=run_started, kind=outage.kind.value, payload=outage.to_payload()))
    report.checked += len(results)


def _check_row(link_id: int, result: LinkCheckResult, error: str | None, body_sha256: str | None) -> dict[str, Any]:
    return {"link_id": link_id, "checked_at": result.checked_at, "outcome": result.outcome.value,
            "http_status": result.http_status, "final_url": result.final_url,
            "redirect_chain": [list(hop) for hop in result.redirect_chain], "elapsed_ms": result.elapsed_ms,
            "error": error, "body_sha256": body_sha256}


def _insert_checks(session: Session, rows: list[dict[str, Any]]) -> None:
    """The batch's ``link_checks`` rows in one INSERT: as ORM objects they were a third of the
    CPU of writing a check (an object, its state and the unit of work's bookkeeping each)."""
    if rows:
        session.connection().execute(insert(_CHECKS), rows)


_LINK_STATE = ("outcome", "http_status", "final_url", "last_checked_at", "last_ok_at", "consecutive_failures",
               "failing_since", "dead_since", "moved_to", "body_sha256", "next_check_at")
_LINKS = Base.metadata.tables["links"]
_READ_LINKS = select(_LINKS.c.id, _LINKS.c.url, *(_LINKS.c[name] for name in _LINK_STATE)).where(
    _LINKS.c.id.in_(bindparam("ids", expanding=True)))
_UPDATE_LINK = update(_LINKS).where(_LINKS.c.id == bindparam("link_id")).values({name: bindparam(name) for name in _LINK_STATE})


def _update_links(session: Session, links: Iterable[_LinkRow]) -> None:
    """The batch's ``links`` rows in one executemany UPDATE (as ORM objects, the unit of work's
    per-object flush cost as much as the checks' inserts)."""
    rows = [{"link_id": link.id, **{name: getattr(link, name) for name in _LINK_STATE}} for link in links]
    if rows:
        session.connection().execute(_UPDATE_LINK, rows)


class _Citing:
    """The measures citing each link of a batch (``citing_measures``), read once, when an event
    first needs them: a batch without a transition or a changed page (most) skips the query."""

    def __init__(self, session: Session, link_ids: list[int]) -> None:
        self._session = session
        self._link_ids = link_ids
        self._found: dict[int, Measures] | None = None

    def of(self, link_id: int) -> Measures:
        if self._found is None:
            self._found = citing_measures(self._session, self._link_ids)
        return self._found.get(link_id, [])


def _record(session: Session, link: _LinkRow, result: LinkCheckResult, measures: _Citing, settings: LinkSettings,
            report: LinkReport, run_started: datetime) -> dict[str, Any]:
    """Advance ``link`` by ``result`` (its state, snapshot, events); the ``link_checks`` row to insert."""
    now = result.checked_at
    previous = link_state(link)
    state, transitions = next_state(previous, result, now, dead_after=settings.dead_after,
                                    dead_min_hours=settings.dead_min_hours)
    body_sha256 = _snapshot(session, link, result, measures, settings) if settings.snapshot_pages else None
    dead_since = link.dead_since
    _apply(link, state, result, now)
    link.next_check_at = plan_next_check(state, run_started, settings)
    for transition in transitions:
        _transition(session, link, transition, result, measures.of(link.id), dead_since, report)
    return _check_row(link.id, result, result.error, body_sha256)


def _apply(link: _LinkRow, state: LinkState, result: LinkCheckResult, now: datetime) -> None:
    link.outcome = result.outcome.value
    link.http_status = result.http_status
    link.final_url = result.final_url
    link.last_checked_at = now
    link.last_ok_at = state.last_ok_at
    link.consecutive_failures = state.consecutive_failures
    link.failing_since = state.first_failure_at
    link.dead_since = (link.dead_since or state.first_failure_at) if state.dead else None
    link.moved_to = state.moved_to


def _snapshot(session: Session, link: _LinkRow, result: LinkCheckResult, measures: _Citing,
              settings: LinkSettings) -> str | None:
    """Store a changed page body; a ``page_changed`` event when its text changed too."""
    if result.body is None or result.body_sha256 is None:
        return None
    if _changed_body(link, result):  # stored by record_batch, with the rest of the batch's bodies
        previous = get_blob(session, link.body_sha256) if link.body_sha256 else None
        summary = text_change(page_text(previous), page_text(result.body)) if previous is not None else None
        if summary is not None:
            _event(session, link, result.checked_at, PageChanged(link.url, summary, _citing(measures.of(link.id))))
        link.body_sha256 = result.body_sha256
    return result.body_sha256


def _changed_body(link: _LinkRow, result: LinkCheckResult) -> bool:
    return result.body is not None and result.body_sha256 is not None and result.body_sha256 != link.body_sha256


def _transition(session: Session, link: _LinkRow, transition: Transition, result: LinkCheckResult, measures: Measures,
                dead_since: datetime | None, report: LinkReport) -> None:
    entry = LinkEntry(url=link.url, outcome=result.outcome.value, http_status=result.http_status,
                      final_url=result.final_url, measures=[int(m["id"]) for m in measures])
    citing = _citing(measures)
    payload: LinkDead | LinkRecovered | LinkMoved
    if transition is Transition.DEAD:
        payload = LinkDead(link.url, entry.outcome, entry.http_status, _iso(link.dead_since), citing)
        report.dead.append(entry)
    elif transition is Transition.RECOVERED:
        payload = LinkRecovered(link.url, entry.outcome, entry.http_status, _iso(dead_since), citing)
        report.recovered.append(entry)
    else:
        # The permanent redirect's status (301/308) says "moved"; the final page's 200 would not.
        entry.http_status = result.redirect_chain[0][1] if result.redirect_chain else result.http_status
        payload = LinkMoved(link.url, result.final_url, entry.http_status, citing)
        report.moved.append(entry)
    _event(session, link, result.checked_at, payload)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _citing(measures: Measures) -> tuple[CitingMeasure, ...]:
    return tuple(CitingMeasure.from_payload(m) for m in measures)


def _event(session: Session, link: _LinkRow, now: datetime, payload: Payload) -> None:
    session.add(Event(created_at=now, kind=payload.kind.value, link_id=link.id, payload=payload.to_payload()))
