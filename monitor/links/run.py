"""The link-checking unit of work: check the due links (of one host, or of all) and store them.

* ``check_host_links(config, sessions, now, host)`` is the scheduler's unit "check one host's
  due links" (DESIGN.md, "Units of work"); ``hosts_with_due_links`` gives its keys. The
  scheduler holds the host's run lock (``links:<host>``) around it.
* ``run_link_checks(config, sessions, now)`` is what ``check`` runs after the lists: every
  host with due links, each under the same run lock (a host the daemon is checking right now
  is left to it), all in one pass of the checker so hosts are checked side by side.

Both end in ``check_due_links``: the due links are read, checked by the phase-1 engine
(``monitor.links.checker``), and written ``links.batch_size`` results per transaction from a
worker thread while the next checks run. ``links.budget_s`` caps the whole pass: links not
checked by then stay due and go first next time. ``now`` is the logical time of the run; a
check made ``t`` seconds into it is recorded at ``now + t``, so tests can move ``now`` by
hours (``dead_min_hours``) without sleeping.

Our outage is not their death: network-level failures (``gone_host``, or ``error`` with no
answer: connect errors, DNS, timeouts) are held back until the pass ends. If they span at
least ``links.outage_min_hosts`` hosts and ``links.outage_share`` of the hosts checked, or the
configured ``links.canary_url`` (checked only then) fails the same way, the run is our own
outage: one ``links_outage`` event, and the held failures are written by ``record_outage``
(not counted toward ``dead_after``, rechecked soon). Otherwise they are written as usual.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, aclosing, contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError

from store.compaction import compact_link_checks
from store.database import SessionFactory, transaction
from store.link_state import DueLink, due_hosts, due_links
from store.outage_window import recent_hosts

from monitor.config import Config
from monitor.links.checker import LinkCheckResult, Progress, check_links
from monitor.links.host_locks import host_locks
from monitor.config.links import LinkSettings
from monitor.events import LinkOutcome, LinksOutage
from monitor.links.record import record_batch, record_outage
from monitor.netguard import Resolver
from monitor.report import LinkReport

__all__ = ["ProgressFactory", "check_due_links", "check_host_links", "check_links_now", "hosts_with_due_links", "run_link_checks"]

log = logging.getLogger("sesaku_monitor.links")
# Given the number of links to check, a context giving a per-result callback (or None).
ProgressFactory = Callable[[int], AbstractContextManager[Progress | None]]
_WRITE_ATTEMPTS = 3


def check_host_links(config: Config, sessions: SessionFactory, now: datetime, host: str) -> LinkReport:
    """Check one host's due links (the scheduler's unit of work; it holds the host's lock)."""
    return check_due_links(config, sessions, now, hosts=[host])


def hosts_with_due_links(config: Config, sessions: SessionFactory, now: datetime | None = None) -> list[str]:
    """Hosts with a cited link due by ``now`` (the scheduler asks without a clock: then the wall clock)."""
    if not config.links.enabled:
        return []
    with transaction(sessions) as session:
        return due_hosts(session, now or datetime.now(timezone.utc))


def run_link_checks(config: Config, sessions: SessionFactory, now: datetime, *, progress: ProgressFactory | None = None,
                    resolver: Resolver | None = None) -> LinkReport:
    """Check every due link of every host not being checked by another runner right now."""
    with host_locks(config, sessions, hosts_with_due_links(config, sessions, now)) as hosts:
        if not hosts:
            return LinkReport()
        return check_due_links(config, sessions, now, hosts=hosts, progress=progress, resolver=resolver)


def check_due_links(config: Config, sessions: SessionFactory, now: datetime, *, hosts: Sequence[str] | None = None,
                    progress: ProgressFactory | None = None, resolver: Resolver | None = None) -> LinkReport:
    """Check the cited links due by ``now`` (of ``hosts``, or all) and store every result."""
    report = LinkReport()
    if not config.links.enabled:
        return report
    with transaction(sessions) as session:
        due = due_links(session, now, hosts, answered_since=_answered_since(config.links, now))
    report = _check_these(config, sessions, now, due, progress, resolver)
    ids = {link.url: link.id for link in due}
    broken = [ids[entry.url] for entry in (*report.dead, *report.moved)]
    if broken:
        # Imported when a link died or moved (rapidfuzz and the repair rules: a worker's start-up otherwise).
        from monitor.links.repair_check import suggest_repairs

        # After the checks, not among them: a new death is recorded whether or not its repair answers.
        # Probed under the hosts' run locks: those of ``hosts`` are the caller's (held for this pass).
        suggest_repairs(config, sessions, now, broken, held=hosts or (), resolver=resolver)
    return report


def check_links_now(config: Config, sessions: SessionFactory, now: datetime, links: Sequence[DueLink], *,
                    progress: ProgressFactory | None = None, resolver: Resolver | None = None) -> tuple[LinkReport, list[DueLink]]:
    """Check ``links`` now, due or not (``links --recheck``), under their hosts' run locks.

    Returns the report and the links left unchecked because another runner holds their host.
    """
    with host_locks(config, sessions, sorted({link.host for link in links})) as hosts:
        free = set(hosts)
        report = _check_these(config, sessions, now, [link for link in links if link.host in free], progress, resolver)
    return report, [link for link in links if link.host not in free]


def _check_these(config: Config, sessions: SessionFactory, now: datetime, due: Sequence[DueLink],
                 progress: ProgressFactory | None, resolver: Resolver | None) -> LinkReport:
    report = LinkReport()
    if not due:
        return report
    with (progress or _no_progress)(len(due)) as advance:
        asyncio.run(_check_and_record(config, sessions, now, due, report, advance, resolver))
    with transaction(sessions) as session:
        compact_link_checks(session, now, config.links.keep_checks_days, link_ids=[link.id for link in due])
    return report


async def _check_and_record(config: Config, sessions: SessionFactory, now: datetime, due: Sequence[DueLink],
                            report: LinkReport, advance: Progress | None, resolver: Resolver | None) -> None:
    settings = config.links
    link_ids = {link.url: link.id for link in due}
    answering = {link.url for link in due if link.answering}
    host_of = {link.url: link.host for link in due}  # as stored, so never parsed again per result

    def write(batch: list[LinkCheckResult], outage: LinksOutage | None = None, ours: bool = False) -> None:
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            written = LinkReport()  # merged only once committed: a batch written again counts once
            try:
                with transaction(sessions) as session:
                    if ours:
                        record_outage(session, batch, link_ids, settings, written, now, outage)
                    else:
                        record_batch(session, batch, link_ids, settings, written, now)
            except IntegrityError:
                # Page bodies are content-addressed: another runner (a host checked side by side
                # in the fleet) stored the same bytes between our look and our insert. Its row is
                # committed now, so the batch written again finds it.
                if attempt == _WRITE_ATTEMPTS:
                    raise
                log.info("link checks: a page body was stored by another runner at the same time; writing the batch again")
                continue
            report.checked += written.checked
            report.dead.extend(written.dead)
            report.recovered.extend(written.recovered)
            report.moved.extend(written.moved)
            return

    results = check_links(list(link_ids), settings, config.http, progress=advance, clock=_run_clock(now), resolver=resolver)
    batch: list[LinkCheckResult] = []
    held: list[LinkCheckResult] = []  # network-level failures: written once the run is judged
    hosts: set[str] = set()
    async with aclosing(_within(results, settings.budget_s, len(due))) as checked:
        async for result in checked:
            if result.url in answering:  # only a link that answered can tell our network failed
                hosts.add(host_of[result.url])
            if _network_failure(result) and result.url in answering:
                held.append(result)
                continue
            batch.append(result)
            if len(batch) >= settings.batch_size:
                # In a thread: the checks in flight keep running while the batch is written.
                await asyncio.to_thread(write, batch)
                batch = []
    if batch:
        await asyncio.to_thread(write, batch)
    if not held:
        return
    # A links job of the daemon or the fleet checks one host: the hosts checked lately tell.
    window = (await asyncio.to_thread(_recent_hosts, sessions, now, settings)
              if len(hosts) < settings.outage_min_hosts else (set(), set()))
    outage = await _outage(held, hosts, host_of, window, settings, config, now, resolver)
    if outage is not None:
        log.warning("link checks: %d link(s) on %d of %d host(s) failed at the network level: our outage, not counted",
                    len(held), outage.failed_hosts, outage.checked_hosts)
    for start in range(0, len(held), settings.batch_size):
        part = held[start:start + settings.batch_size]
        await asyncio.to_thread(write, part, outage if start == 0 else None, outage is not None)


def _network_failure(result: LinkCheckResult) -> bool:
    """No answer at all: a connect error, a DNS failure, a timeout (monitor.net_failures)."""
    return result.http_status is None and result.outcome in (LinkOutcome.GONE_HOST, LinkOutcome.ERROR)


def _answered_since(settings: LinkSettings, now: datetime) -> datetime:
    """A link that has not answered for this long is told dead, outage or not: an outage of ours
    longer than dead_min_hours plus two healthy rechecks (60 h by default) is not told from a
    dead host, so hosts that die together cannot be held as our outage for ever."""
    return now - timedelta(hours=settings.dead_min_hours) - 2 * settings.recheck_healthy


def _recent_hosts(sessions: SessionFactory, now: datetime, settings: LinkSettings) -> tuple[set[str], set[str]]:
    with transaction(sessions) as session:
        return recent_hosts(session, now - settings.recheck_failing, now, _answered_since(settings, now))


async def _outage(held: list[LinkCheckResult], hosts: set[str], host_of: dict[str, str], window: tuple[set[str], set[str]],
                  settings: LinkSettings, config: Config, now: datetime, resolver: Resolver | None) -> LinksOutage | None:
    """The run's ``links_outage`` when its network-level failures are ours, else None.

    ``window`` holds the hosts checked lately by other runs and those of them that gave no answer:
    a host that answered in this run counts as answering, whatever it did before."""
    failed = {host_of[result.url] for result in held}
    answered = hosts - failed
    hosts = hosts | window[0]
    failed = failed | (window[1] - answered)
    canary: str | None = None
    if settings.canary_url:
        async for result in check_links([settings.canary_url], settings, config.http, clock=_run_clock(now), resolver=resolver):
            if _network_failure(result):
                canary = settings.canary_url
    spread = len(failed) >= settings.outage_min_hosts and len(failed) >= settings.outage_share * len(hosts)
    if canary is None and not spread:
        return None
    return LinksOutage(len(failed), len(hosts), len(held), held[0].error or held[0].outcome.value, canary)


async def _within(results: AsyncIterator[LinkCheckResult], budget_s: float, total: int) -> AsyncGenerator[LinkCheckResult, None]:
    """``results`` until ``budget_s`` has passed; the checks still running then are given up."""
    deadline = asyncio.get_running_loop().time() + budget_s
    done = 0
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    result = await anext(results)
            except StopAsyncIteration:
                return
            except TimeoutError:
                log.warning("link checks: budget of %gs spent; %d of %d links left for the next run", budget_s, total - done, total)
                return
            done += 1
            yield result
    finally:
        await results.aclose()  # type: ignore[attr-defined]


def _run_clock(now: datetime) -> Callable[[], datetime]:
    """``now`` plus the time elapsed since the run began: real durations on a logical clock."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


@contextmanager
def _no_progress(total: int) -> Iterator[Progress | None]:
    yield None
