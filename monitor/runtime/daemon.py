"""``sesaku-monitor run``: the daemon's life — start and catch up, reload, stop gracefully.

The main thread only waits and reacts; jobs run in the scheduler's worker threads.

* **SIGTERM / SIGINT**: take no new work; let running jobs finish for up to
  ``schedule.stop_timeout_s`` (a second signal stops waiting); then give them up. A job
  given up never committed its transaction, so the database rolls it back when the
  process ends, and its run lock is free again (see store/locks.py).
* **SIGHUP**, or a new mtime or size of the config file (looked at every
  ``schedule.reload_poll_s``): reload. A configuration that does not load, or whose
  database does not open, is refused in one log line, and the running one stays.

Signal handlers only set flags: the main loop wakes at least every 0.2 s to read them.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType
from typing import Any

from notifiers.outbox import SETTLE_CAP, DeliveryRun, start_cursors
from store.database import SessionFactory, retry_when_locked, transaction
from store.errors import StoreError
from store.jobstate import job_states
from store.models import JobState

from monitor.report import LinkReport, SourceReport
from monitor.runtime.check import open_store
from monitor.config import Config, load_config
from monitor.errors import ConfigError, MonitorError
from monitor.events import MEASURE_KINDS
from monitor.runtime.health import Health, HealthServer, assess
from monitor.runtime.jobs import JobRun, job_id, run_job
from monitor.runtime.pidfile import claim, pid_path, release
from monitor.secrets import redact
from monitor.runtime.search_backlog import INDEX_KEY, IndexRun, waiting_versions
from monitor.runtime.scheduler import JobScheduler, PlannedJob, SyncChanges, plan_jobs
from monitor.schedule import jitter_for

__all__ = ["Daemon"]

log = logging.getLogger("sesaku_monitor.daemon")
_TICK_S = 0.2
# Kinds keyed by the database (hosts with links) gain and lose keys between reloads.
_REPLAN_EVERY_S = 60.0


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def job_summary(result: Any) -> tuple[str, dict[str, Any]]:
    """A job's result in words and as log fields: a list's changes by kind, a link run's
    verdicts, a notifier's deliveries; ``("", {})`` for anything else."""
    if isinstance(result, DeliveryRun):
        outcome = "send_failed" if result.failed else "sent" if result.sent else "nothing_sent"
        return f"notifier {result.notifier_id}: {result.describe()}", {"result": outcome, "deliveries": result.prepared + result.sent}
    if isinstance(result, LinkReport):
        found = {kind: len(getattr(result, kind)) for kind in ("dead", "recovered", "moved")}
        said = ", ".join([f"{result.checked} links checked"] + [f"{n} {kind}" for kind, n in found.items() if n])
        return said, {"result": "checked", "checked": result.checked, "counts": found}
    if isinstance(result, IndexRun):
        return result.describe(), {"result": "indexed", "records": result.indexed, "waiting": result.waiting}
    if isinstance(result, SourceReport):
        # The measures' kinds of event, in the order a digest shows them.
        counts = {kind.value: len(getattr(result, kind)) for kind in MEASURE_KINDS if getattr(result, kind)}
        changes = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        records = f" ({result.records} records)" if result.records is not None else ""
        return f"{result.status}{': ' + changes if changes else ''}{records}", {"result": result.status, "records": result.records, "counts": counts}
    return "", {}


class Daemon:
    """``Daemon(path, config, health_port=8081).run()`` blocks until stopped by a signal or :meth:`request_stop`."""

    def __init__(self, config_path: str | Path, config: Config, *, health_port: int | None = None, clock: Callable[[], datetime] = _utc_now) -> None:
        self._path = Path(config_path)
        self._current: tuple[Config, SessionFactory] = (config, open_store(config))
        self._clock = clock
        self._stamp = _stamp(self._path)  # the file as last loaded
        self._seen = self._stamp  # the file as the last poll saw it
        self._wake = threading.Event()
        self._stop_requested = 0
        self._reload_requested = False
        self._stopping = threading.Event()
        self._running: set[str] = set()
        self._waiting: dict[str, float] = {}  # notifier id -> since when its turn is put off (monotonic)
        self._idle = threading.Condition()
        self._scheduler = JobScheduler(self._run_job, workers=config.schedule.workers, tz=config.tz)
        self._health_port = health_port
        self._health: HealthServer | None = None
        self._started_at = clock()
        self.abandoned: list[str] = []

    @property
    def config(self) -> Config:
        return self._current[0]

    @property
    def health_port(self) -> int | None:
        return self._health.port if self._health else None

    def request_stop(self) -> None:
        self._stop_requested += 1
        self._wake.set()

    def request_reload(self) -> None:
        self._reload_requested = True
        self._wake.set()

    def run(self, *, install_signals: bool = True) -> None:
        """Start, catch up, serve until asked to stop, then stop within the bound."""
        if install_signals:
            self._install_signals()
        pid_file = pid_path(self.config)
        if pid_file is not None:
            claim(pid_file)
        try:
            self._serve()
        finally:
            if pid_file is not None:
                release(pid_file)

    def _serve(self) -> None:
        self._started_at = self._clock()
        config, sessions = self._current
        start_cursors(config, sessions, self._started_at)  # a notifier new to the database starts before the first list run
        changes = self._sync()
        self._scheduler.start()
        if self._health_port is not None:
            self._health = HealthServer(self._health_port, self.health).start()
        config = self.config
        log.info("daemon started", extra={
            "event": "started", "pid": os.getpid(), "jobs": len(self._scheduler.planned), "catch_up": len(changes.catch_up),
            "database": redact(config.database.url), "health_port": self.health_port,
            "pid_file": str(pid_path(config) or ""),
        })
        try:
            self._loop()
        finally:
            self._shutdown()

    def _install_signals(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            self._stop_requested += 1

        def reload(signum: int, frame: FrameType | None) -> None:
            self._reload_requested = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    def _loop(self) -> None:
        next_poll = next_replan = time.monotonic()
        while not self._stop_requested:
            self._wake.wait(_TICK_S)
            self._wake.clear()
            if self._stop_requested:
                break
            now = time.monotonic()
            poll_s = self.config.schedule.reload_poll_s
            if self._reload_requested:
                self._reload_requested = False
                self.reload("SIGHUP")
            elif poll_s and now >= next_poll:
                next_poll = now + poll_s
                # A file caught mid-write (truncated, half written) must not be loaded: a change is
                # read once two polls in a row see the same file.
                seen, self._seen = self._seen, _stamp(self._path)
                if self._seen != self._stamp and self._seen == seen:
                    self.reload("config file changed")
            if now >= next_replan:
                next_replan = now + _REPLAN_EVERY_S
                # A host whose links fall due is new work, not a run owed after downtime: no catch-up line.
                self._sync(catching_up=False)

    def reload(self, why: str) -> bool:
        """Load the config file again; keep the running configuration if the new one is bad."""
        self._stamp = _stamp(self._path)
        old_config, old_sessions = self._current
        try:
            config = load_config(self._path)
            sessions = old_sessions if config.database == old_config.database else open_store(config)
            plans = plan_jobs(config, sessions)
            start_cursors(config, sessions, self._clock())  # a notifier added by this reload starts now
        except (ConfigError, StoreError) as exc:
            log.error("configuration refused, the running one stays: %s", exc, extra={"event": "reload_refused", "why": why})
            return False
        self._current = (config, sessions)
        changes = self._sync(plans)
        log.info("configuration reloaded", extra={
            "event": "reloaded", "why": why, "jobs": len(plans),
            "added": changes.added, "removed": changes.removed, "rescheduled": changes.rescheduled,
        })
        return True

    def _sync(self, plans: list[PlannedJob] | None = None, *, catching_up: bool = True) -> SyncChanges:
        config, sessions = self._current
        plans = plan_jobs(config, sessions) if plans is None else plans
        states = self._states([plan.id for plan in plans])
        changes = self._scheduler.sync(plans, states, self._clock(), config.tz, config.schedule.jitter_s)
        if changes.catch_up and catching_up:
            log.info("catching up: %d jobs owed a run", len(changes.catch_up), extra={"event": "catch_up", "jobs": changes.catch_up})
        return changes

    def _states(self, job_ids: list[str]) -> dict[str, JobState]:
        _, sessions = self._current

        def read() -> dict[str, JobState]:
            with transaction(sessions) as session:
                return job_states(session, job_ids)
        return retry_when_locked(read, wait_s=self.config.database.busy_timeout_s)

    def _run_job(self, kind: str, key: str) -> None:
        """Called by the scheduler in a worker thread."""
        if self._stopping.is_set():
            return
        name = job_id(kind, key)
        config, sessions = self._current
        if kind == "notifier" and self._wave_running(config, key):
            log.info("job %s waits: lists are running, it runs %gs after the last one", name, config.notifier(key).settle_s,
                     extra={"event": "job_waits", "job": name})
            return
        with self._idle:
            self._running.add(name)
        try:
            self._log_run(run_job(config, sessions, self._clock(), kind, key))
        except (MonitorError, StoreError) as exc:
            log.error("job %s failed: %s", name, exc, extra={"event": "job_failed", "job": name})
        except Exception:
            # A bug in one job must not stop the daemon; the traceback is the line worth having.
            log.exception("job %s crashed", name, extra={"event": "job_crashed", "job": name})
        finally:
            with self._idle:
                self._running.discard(name)
                self._idle.notify_all()
            if kind == "source":
                self._after_list_run(config, sessions)

    def _wave_running(self, config: Config, notifier_id: str) -> bool:
        """Whether an after_run notifier's turn is put off: a list runs now, and the digest has
        not waited :data:`SETTLE_CAP` × ``settle_s`` yet (lists that never stop must not hold it back)."""
        notifier = next((n for n in config.notifiers if n.id == notifier_id), None)
        with self._idle:
            lists_running = any(name.startswith("source:") for name in self._running)
        if notifier is None or not notifier.after_run or notifier.settle_s <= 0 or not lists_running:
            self._waiting.pop(notifier_id, None)
            return False
        since = self._waiting.setdefault(notifier_id, time.monotonic())
        if time.monotonic() - since < SETTLE_CAP * notifier.settle_s:
            return True
        self._waiting.pop(notifier_id, None)
        return False

    def _after_list_run(self, config: Config, sessions: SessionFactory) -> None:
        """A list run ended: each after_run notifier runs ``settle_s`` later, and the next list
        run to end moves that turn again, so that a wave across lists becomes one digest; the
        versions it left for the search index are indexed."""
        if self._stopping.is_set():
            return
        for notifier in config.notifiers:
            if notifier.after_run and notifier.settle_s > 0:
                self._scheduler.run_once("notifier", notifier.id, _utc_now() + timedelta(seconds=notifier.settle_s))
        with suppress(StoreError):  # the database is away: the next replan finds them
            if waiting_versions(sessions):  # a big list's versions: indexed now, not at the next replan
                self._scheduler.run_once("search", INDEX_KEY, _utc_now())

    def _log_run(self, run: JobRun) -> None:
        said, fields = job_summary(run.result)
        extra = {"event": "job_" + run.status, "job": run.job_id, "duration_s": round(run.duration_s, 3), **fields}
        if run.status == "ok":
            log.info("job %s ok in %.2fs%s", run.job_id, run.duration_s, f": {said}" if said else "", extra=extra)
        elif run.status == "busy":
            log.info("job %s skipped: %s", run.job_id, run.error, extra=extra)
        else:
            log.warning("job %s did not succeed: %s", run.job_id, run.error or said, extra=extra)

    def _shutdown(self) -> None:
        self._stopping.set()
        self._scheduler.stop()
        timeout = self.config.schedule.stop_timeout_s
        with self._idle:
            if self._running:
                log.info("stopping: waiting up to %gs for %d running jobs", timeout, len(self._running), extra={"event": "stopping", "jobs": sorted(self._running)})
            self._wait_idle(time.monotonic() + timeout)
            self.abandoned = sorted(self._running)
        if self._health:
            self._health.stop()
        if self.abandoned:
            log.warning("stopped; running jobs given up, their transactions roll back", extra={"event": "stopped", "abandoned": self.abandoned})
        else:
            log.info("stopped", extra={"event": "stopped"})

    def _wait_idle(self, deadline: float) -> None:
        """Wait (holding ``_idle``) until no job runs, the deadline passes or a second stop signal comes."""
        first_signal = self._stop_requested
        while self._running and time.monotonic() < deadline and self._stop_requested <= first_signal:
            self._idle.wait(min(_TICK_S, max(0.0, deadline - time.monotonic())))

    def health(self) -> Health:
        config, _ = self._current
        plans = self._scheduler.planned
        states = self._states([plan.id for plan in plans])
        now = self._clock()
        slack = max((jitter_for(plan.spec, config.schedule.jitter_s, now, config.tz) for plan in plans), default=timedelta(0))
        return assess(
            [(plan.id, plan.spec) for plan in plans], states, alive=self._scheduler.alive and not self._stopping.is_set(),
            started_at=self._started_at, now=now, tz=config.tz, slack=slack,
        )
