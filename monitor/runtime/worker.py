"""The fleet: the units of work of :mod:`monitor.runtime.jobs` as procrastinate tasks on PostgreSQL.

Any number of ``sesaku-monitor worker`` processes, on any machines, share one PostgreSQL
database, which is both the store and the queue (procrastinate)::

    tick        periodic; procrastinate defers it once per tick for the whole fleet
      └── the due units not already waiting  →  one INSERT … ON CONFLICT DO NOTHING
              lock = queueing_lock = "<kind>:<key>"  (a source, a host, a notifier)
    run_unit    → monitor.runtime.jobs.run_job(…): the very call the single-machine scheduler makes;
                  a links unit also claims more waiting links units, checked in one pass
                  (monitor.runtime.host_batch), each host under its own run lock

* ``queueing_lock``: a unit waiting in the queue is not queued twice. The tick inserts the
  due units in one statement that skips those already waiting (the queueing lock's unique
  index as ON CONFLICT target), so no duplicate-key error is raised or logged by PostgreSQL;
  ``lock``: a unit never runs twice at once (one source, one host, one notifier at a time
  across the fleet, so the link checker's per-host cap and interval hold fleet-wide), and
  the run lock of :mod:`store.locks` (an advisory lock on PostgreSQL) keeps out a ``check``
  or daemon running the same unit beside the queue.
* A unit that raised, or found its run lock held (a ``check`` running it), is retried with
  exponential backoff; one that ran and recorded a failed fetch is not (it is a result).
* A unit whose work already succeeded since it was found due is skipped: a duplicate or a
  retry after a crash between commit and acknowledgement writes nothing twice.
* SIGTERM/SIGINT: no new jobs; the running ones get ``worker.shutdown_grace_s`` to finish,
  then procrastinate aborts them (retried later) and the process exits 1 with one line naming
  what it left and what it was waiting on (:mod:`monitor.runtime.stopping`), whatever is stuck.
  Asked to stop with no unit running while the database is unavailable, it exits 0 at once,
  one line: what procrastinate would wait on (a connection from psycopg's pool) never comes.
  SIGUSR1 prints every thread's stack (faulthandler), for a look at a worker that seems stuck.
  A worker killed outright stops beating, and its run locks die with its connections; every
  worker looks for such jobs each heartbeat and, in one statement, closes each and queues
  its unit again, unless the unit is already waiting (the tick queued its next run): then
  that one does the work. Their writes were one transaction: nothing half-written.
* Finished jobs: a succeeded one is deleted at once; failed, cancelled and aborted ones stay
  for ``worker.keep_jobs_days`` (for ``status`` and a look), then an hourly periodic task
  removes them with procrastinate's own ``delete_old_jobs``.
* The database going away stops procrastinate's worker; this process logs one line,
  reconnects with backoff (quietly) and logs one line when it is back, and jobs it was
  running are found stalled and run again. What procrastinate and psycopg's pool would
  log about the same outage (tracebacks of failed side tasks and jobs, every failed
  connection attempt) is left out: their records whose error is the database going away
  (:mod:`monitor.runtime.outage`). Any other database error (a deadlock, a constraint) is
  logged with its traceback.
"""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import logging
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NoReturn

import croniter
from procrastinate import App, BaseRetryStrategy, JobContext, PsycopgConnector, RetryDecision, RetryStrategy
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Job
from procrastinate.worker import Worker
from sqlalchemy.exc import SQLAlchemyError

# First of ours: it keeps httpx's and httpcore's unused optional imports out (see the module).
from monitor.runtime import lean_imports  # noqa: F401
from store.database import SessionFactory, open_engine, printable_url, session_factory, transaction
from store.errors import StoreError
from store.jobstate import job_states, start_ranks

from monitor.cadence import StartBounds
from monitor.config import Config, WorkerSettings
from monitor.errors import ConfigError
from monitor.runtime.host_batch import UnitBusy, run_links_job, settle_left_over
from monitor.runtime.jobs import KINDS, job_id, run_job
from monitor.runtime.outage import Outage, database_gone, quiet_outages
from monitor.runtime.queue_db import (
    DATABASE_ERRORS, QUEUE_CONNECTIONS, apply_queue_schema, first_line, queue_conninfo, queue_connector, queue_schema_present, require_postgres,
)
from monitor.runtime.queue_retry import RetryUnlessWaiting, close_job
from monitor.runtime.stopping import Deadline, InFlight

__all__ = [
    "QUEUE", "QUEUE_CONNECTIONS", "DueUnit", "UnitBusy", "require_postgres", "queue_conninfo", "apply_queue_schema", "queue_schema_present",
    "build_app", "connections_needed", "due_units", "job_retry", "queue_connector", "queue_missing", "remove_old_jobs", "requeue_stalled", "run_unit", "run_worker",
    "store_connections",
]

log = logging.getLogger("sesaku_monitor.worker")

QUEUE = "sesaku"
RUN_TASK = "sesaku.run_unit"
TICK_TASK = "sesaku.tick"
TICK_LOCK = "tick"  # the tick's lock and queueing lock: one tick waits and runs at a time, fleet-wide
CLEANUP_TASK = "sesaku.remove_old_jobs"
CLEANUP_CRON = "23 * * * *"  # hourly, off the hour that other housekeeping likes


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _check_tick(cron: str) -> None:
    if not croniter.croniter.is_valid(cron):
        raise ConfigError(f"worker.tick: not a crontab line: {cron!r} (examples: \"* * * * *\", \"*/10 * * * *\" every ten minutes, \"* * * * * */10\" every ten seconds: a sixth field is the seconds)")


@dataclass(frozen=True, slots=True)
class DueUnit:
    kind: str
    key: str
    due_at: datetime

    @property
    def name(self) -> str:
        return job_id(self.kind, self.key)


def due_units(config: Config, sessions: SessionFactory, now: datetime) -> list[DueUnit]:
    """Every unit whose next run, counted from its last start, is not after ``now``.

    One bound a schedule (:class:`monitor.cadence.StartBounds`, as ``status`` decides it), and of
    ``job_state`` only the jobs started since the oldest bound, each with the newest bound it is not
    before (:func:`store.jobstate.start_ranks`): a unit whose start ranks after its schedule's bound is due."""
    candidates = [(name, key, KINDS[name].schedule(config, key)) for name, kind in KINDS.items() for key in kind.keys(config, sessions, now)]
    if not candidates:
        return []
    bounds = StartBounds([spec for _, _, spec in candidates], now, config.tz)
    with transaction(sessions) as session:
        ranks = start_ranks(session, bounds.bounds)
    return [DueUnit(name, key, now) for name, key, spec in candidates if bounds.due_by_rank(spec, ranks.get(job_id(name, key)))]


def run_unit(config: Config, sessions: SessionFactory, kind: str, key: str, due_at: datetime) -> str:
    """Run one unit through :func:`monitor.runtime.jobs.run_job`, unless it already succeeded since ``due_at``."""
    name = job_id(kind, key)
    with transaction(sessions) as session:
        state = job_states(session, [name]).get(name)
    if state is not None and state.last_success_at is not None and state.last_success_at >= due_at:
        return f"{name}: skipped, it succeeded at {state.last_success_at.isoformat()}"
    run = run_job(config, sessions, utc_now(), kind, key)
    if run.status == "busy":
        raise UnitBusy(f"{name}: {run.error}")
    return f"{name}: {run.status}" + (f" ({run.error})" if run.error else "")


class _NoRetry(BaseRetryStrategy):
    """``worker.retries: 0`` (procrastinate's max_attempts of 0 means no limit)."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        return None


def job_retry(settings: WorkerSettings) -> BaseRetryStrategy:
    """A job that raised runs again ``worker.retries`` times (procrastinate's max_attempts counts
    the runs after the first), after ``retry_backoff_s`` to the power of the attempt."""
    if settings.retries == 0:
        return _NoRetry()
    return RetryStrategy(max_attempts=settings.retries, exponential_wait=settings.retry_backoff_s)


def build_app(config: Config, sessions: SessionFactory, in_flight: InFlight | None = None) -> App:
    """A procrastinate app whose two tasks close over this configuration and store (and say
    which units run in ``in_flight``)."""
    settings = config.worker
    _check_tick(settings.tick)
    connector = queue_connector(config.database.url)
    app = App(connector=connector)
    app.job_manager = RetryUnlessWaiting(app.connector)
    retry = job_retry(settings)
    running = in_flight or InFlight()

    @app.task(name=RUN_TASK, queue=QUEUE, retry=retry, pass_context=True)
    async def run(context: JobContext, kind: str, key: str, due_at: str) -> str:
        with running.holding(context.job.id or 0, job_id(kind, key)):
            if kind == "links" and context.job.id is not None:  # several hosts a job (monitor.runtime.host_batch)
                return await run_links_job(app, retry, config, sessions, (QUEUE, RUN_TASK), context.job.id, key, datetime.fromisoformat(due_at))
            return await asyncio.to_thread(run_unit, config, sessions, kind, key, datetime.fromisoformat(due_at))

    @app.periodic(cron=settings.tick, periodic_id="tick")
    @app.task(name=TICK_TASK, queue=QUEUE, queueing_lock=TICK_LOCK, lock=TICK_LOCK)
    async def tick(timestamp: int) -> str:
        # A tick that cannot reach the database (a restart) does nothing: the next tick
        # finds the same due work, so nothing is lost and the tick is not a failed job.
        try:
            units = await asyncio.to_thread(due_units, config, sessions, utc_now())
            queued = await queue_missing(connector, units)
        except (*DATABASE_ERRORS, SQLAlchemyError) as exc:
            if not database_gone(exc):
                log.exception("tick failed (the next tick tries again): %s", first_line(exc))
                return f"failed: {first_line(exc)}"
            log.debug("tick skipped, the database is unavailable: %s", first_line(exc))
            return "skipped: database unavailable"
        return f"{len(units)} due, {queued} queued"

    @app.periodic(cron=CLEANUP_CRON, periodic_id="remove-old-jobs")
    @app.task(name=CLEANUP_TASK, queue=QUEUE, queueing_lock="remove-old-jobs", lock="remove-old-jobs")
    async def remove_old(timestamp: int) -> str:
        try:
            return await remove_old_jobs(app, settings.keep_jobs_days)
        except DATABASE_ERRORS as exc:  # as for the tick: the next hour finds the same jobs
            if not database_gone(exc):
                raise  # a failed job, with its traceback, as any other
            log.debug("removing old jobs skipped, the database is unavailable: %s", first_line(exc))
            return "skipped: database unavailable"

    return app


async def remove_old_jobs(app: App, keep_days: int) -> str:
    """Remove the queue's finished jobs (failed, cancelled, aborted too) older than ``keep_days``; 0 keeps them."""
    if keep_days <= 0:
        return "kept: worker.keep_jobs_days is 0"
    await app.job_manager.delete_old_jobs(nb_hours=keep_days * 24, queue=QUEUE, include_failed=True,
                                          include_cancelled=True, include_aborted=True)
    return f"removed the jobs finished more than {keep_days} day(s) ago"


# Written against procrastinate 3's procrastinate_jobs (the columns its defer function fills):
# its own defer has no "unless already waiting", and every unit already queued would be an
# ERROR in PostgreSQL's log and an exception here. The queueing lock's unique index skips the
# units already waiting, a worker queueing the same unit at the same moment too. No anti-join
# with the jobs table first: planned on an empty queue it scanned the table again for each unit,
# the rows this statement was adding included (19,259 units into an empty queue: 2.45 of 2.94 s;
# without it 0.47 s, and a backlog of 19,000 sent again 0.08 -> 0.12 s). A unit skipped still
# draws a job id from the sequence (a bigint: a backlog of 19,000 a second lasts 15 million years).
_QUEUE_MISSING = f"""
INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args)
SELECT '{QUEUE}', '{RUN_TASK}', unit.name, unit.name,
       jsonb_build_object('kind', unit.kind, 'key', unit.key, 'due_at', unit.due_at)
  FROM unnest(%(names)s::text[], %(kinds)s::text[], %(keys)s::text[], %(due)s::text[]) AS unit(name, kind, key, due_at)
ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
RETURNING id
"""


# A tick queueing this many brings a backlog the queue's statistics have not seen. A fetch is planned
# with them: with none yet (a new database's queue before autovacuum's first ANALYZE) PostgreSQL took
# the waiting jobs for a few and sorted all of them at each fetch (3,000 waiting: 114 ms a job, 19,000:
# 5.5 s; analyzed, 3 ms). The ANALYZE (52-59 ms at 19,000 jobs) also has each connection of the fleet
# plan on the grown table. A role that does not own the table gets a warning, and autovacuum's statistics.
_ANALYZE_FROM = 1_000


async def queue_missing(connector: PsycopgConnector, units: list[DueUnit]) -> int:
    """Queue every unit not already waiting, in one statement; how many were queued."""
    if not units:
        return 0
    async with connector.pool.connection() as connection:
        # procrastinate's trigger records each job queued in procrastinate_events, whose foreign key
        # PostgreSQL checks with a plan this connection keeps from its first checks: made on a queue of
        # a few jobs, a scan of the whole table for each new job (19,159 units queued beside 100
        # waiting: 8.1 s; planned again here, 0.49 s).
        await connection.execute("DISCARD PLANS")
        # Its per-job triggers run the same few statements once a job: planned once for the statement here,
        # not once a job as the queue's connections plan elsewhere (_plan_each_run; 19,259 units queued
        # with 0.44-0.55 s of PostgreSQL's CPU, 0.90-0.99 s planned once a job).
        await connection.execute("SET LOCAL plan_cache_mode = auto")
        rows = await connector.execute_query_all_async_with_connection(
            connection, _QUEUE_MISSING, names=[unit.name for unit in units], kinds=[unit.kind for unit in units],
            keys=[unit.key for unit in units], due=[unit.due_at.isoformat() for unit in units],
        )
    if len(rows) >= _ANALYZE_FROM:
        await connector.execute_query_async("ANALYZE procrastinate_jobs")
    return len(rows)


async def requeue_stalled(app: App, stalled_after_s: float) -> list[str]:
    """Close the jobs of workers that stopped beating and queue their units again; what was done, one line each."""
    done = []
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after_s):
        if job.id is None:
            continue
        done_here = await close_job(app.connector, job.id, requeue=True)
        if not done_here.closed:
            continue  # another worker closed it first
        unit = job.queueing_lock or job.task_name
        then = f"queued again as job {done_here.queued}" if done_here.queued else "closed: the unit is already waiting in the queue"
        done.append(f"job {job.id} ({unit}) of a worker that stopped: {then}")
    return done


async def _requeue_stalled(app: App, settings: WorkerSettings, outage: Outage, session_over: asyncio.Event) -> None:
    """Every heartbeat until ``session_over``: settle what a links job could not (monitor.runtime.host_batch),
    recover the jobs of workers that stopped beating (and notice an outage that procrastinate's pool
    rides out without stopping its worker)."""
    # The session's end is an event this loop looks at, besides the cancellation: after a PostgreSQL
    # restart a cancellation swallowed below (psycopg cancelling its query on a dead connection) left
    # the sweep beating on, and the session, awaiting it, never ended.
    while not session_over.is_set():
        await _sleep_unless(session_over, settings.heartbeat_s)
        if session_over.is_set():
            return
        try:
            await settle_left_over(app)
            recovered = await requeue_stalled(app, settings.stalled_after_s)
        except (*DATABASE_ERRORS, queue_errors.AppNotOpen) as exc:
            if isinstance(exc, queue_errors.AppNotOpen) or database_gone(exc):
                outage.lost(f"database unavailable ({first_line(exc)})")
            else:
                log.exception("the stalled-job sweep failed (tried again at the next heartbeat): %s", first_line(exc))
            continue
        outage.back()
        for line in recovered:
            log.warning("%s", line)


@dataclass
class _Life:
    """What the signal handlers change: the stop request, the worker to tell, the deadline to arm."""

    stopping: asyncio.Event
    deadline: Deadline
    worker: Worker | None = None

    def stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stop asked: finishing the running jobs (for up to %gs), taking no new ones", self.deadline.grace_s)
            self.deadline.arm()
        self.stopping.set()
        if self.worker is not None:
            # procrastinate waits for its running jobs this long, then aborts them (to be retried);
            # only when asked to stop: a session ended by an outage lets its jobs run on.
            self.worker.shutdown_graceful_timeout = self.deadline.grace_s
            self.worker.stop()


def run_worker(config: Config, *, concurrency: int | None = None) -> None:
    """Serve the queue until SIGTERM/SIGINT; reconnect whenever the database goes away."""
    require_postgres(config.database.url)
    _check_tick(config.worker.tick)
    slots = concurrency or config.worker.concurrency
    engine = open_engine(config.database.url, busy_timeout_s=config.database.busy_timeout_s, pool_size=store_connections(slots))
    if not queue_schema_present(config.database.url):
        raise StoreError(f"database {printable_url(config.database.url)} has no job queue yet: run `sesaku-monitor db upgrade`")
    # The configuration lives as long as the process (250,000 objects at 18,000 lists): out of the
    # collector's full passes, which walked it again (a quarter of a second of the first tick).
    gc.freeze()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: every thread's stack on stderr
    try:
        asyncio.run(_serve(config, session_factory(engine), slots))
    finally:
        engine.dispose()


def store_connections(slots: int) -> int:
    """The store pool of a worker with ``slots``: one per running unit (a unit holds one only
    while it reads or writes, never two at once), one for the run locks of all its units
    (:mod:`store.process_locks`) and one for the tick's look at what is due."""
    return slots + 2


def connections_needed(slots: int) -> int:
    """PostgreSQL connections one worker holds at most (docs/scale.md, "Connections")."""
    return store_connections(slots) + QUEUE_CONNECTIONS


async def _serve(config: Config, sessions: SessionFactory, concurrency: int) -> None:
    loop = asyncio.get_running_loop()
    name = f"{socket.gethostname()}:{os.getpid()}"
    in_flight = InFlight()
    deadline = Deadline(name, config.worker.shutdown_grace_s, in_flight, loop)
    life = _Life(asyncio.Event(), deadline)
    # procrastinate runs a sync task in the loop's default thread pool, which asyncio sizes
    # from the CPUs (min(32, cpus + 4)): 6 on two CPUs, however many slots were asked for.
    # A unit mostly waits on the network: one thread per slot, and one for the tick's query.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=concurrency + 1, thread_name_prefix="sesaku-job"))
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, life.stop)
    outage = Outage(name, QUEUE, grace_s=config.worker.stalled_after_s)
    quiet_outages(outage)
    while not life.stopping.is_set():
        began = time.monotonic()
        session = asyncio.create_task(_one_session(config, sessions, concurrency, name, life, outage, in_flight), name="queue-session")
        if not await _ended_unless_gone(session, life.stopping, outage, in_flight):
            _exit_leaving(name)
        try:
            await session
            if not life.stopping.is_set():
                # procrastinate stops its worker when it loses the database (a side task failed).
                outage.lost("lost the queue's connection", session_began=began)
        except DATABASE_ERRORS as exc:
            if database_gone(exc):
                outage.lost(f"database unavailable ({first_line(exc)})")
            else:
                log.exception("worker %s: the queue failed (%s); starting again", name, first_line(exc))
        if not life.stopping.is_set():
            await _sleep_unless(life.stopping, outage.next_delay())
    if in_flight.names():  # aborted at the grace, their threads may run on: exiting would wait for them
        deadline.give_up(from_timer=False)
    deadline.disarm()
    log.info("worker %s stopped", name)


async def _ended_unless_gone(session: asyncio.Task[None], stopping: asyncio.Event, outage: Outage, in_flight: InFlight) -> bool:
    """Wait for the queue session to end; False if asked to stop, no unit running, while the database is
    unavailable: what the session then waits on (the tick's finish, the farewell to the queue, the pool's
    first connections) waits psycopg's 30 s for a connection that a dropped or unreachable database does not
    give, and cancelled, psycopg's pool still waits (a worker stopped 30 s after SIGTERM)."""
    gone = asyncio.create_task(_stop_while_gone(stopping, outage, in_flight))
    await asyncio.wait({session, gone}, return_when=asyncio.FIRST_COMPLETED)
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    return session.done()


async def _stop_while_gone(stopping: asyncio.Event, outage: Outage, in_flight: InFlight) -> None:
    await stopping.wait()
    while outage.down_since is None or in_flight.names():  # a unit running has the grace: the database may come back
        await asyncio.sleep(0.25)


def _exit_leaving(name: str) -> NoReturn:
    """Exit now (status 0: no unit was running), leaving the queue session to wait on the database alone."""
    log.info("worker %s stopped without unregistering from the queue: the database is unavailable (the next worker to start prunes it)", name)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(0)


async def _one_session(config: Config, sessions: SessionFactory, concurrency: int, name: str, life: _Life, outage: Outage,
                       in_flight: InFlight) -> None:
    """One connection to the queue: run procrastinate's worker until it stops or the database goes."""
    settings = config.worker
    app = build_app(config, sessions, in_flight)
    async with app.open_async():
        worker = Worker(
            app, queues=[QUEUE], name=name, concurrency=concurrency, install_signal_handlers=False,
            update_heartbeat_interval=settings.heartbeat_s, stalled_worker_timeout=settings.stalled_after_s,
            fetch_job_polling_interval=min(5.0, settings.heartbeat_s),
            # The queue stays small: done jobs leave, failed ones stay for `status` and a look.
            delete_jobs="successful",
        )
        life.worker = worker
        if life.stopping.is_set():
            return  # asked to stop while connecting: procrastinate would forget it
        session_over = asyncio.Event()
        requeue = asyncio.create_task(_requeue_stalled(app, settings, outage, session_over), name="requeue-stalled")
        outage.serving(concurrency)
        try:
            await _tick_now(app)
            await worker.run()
        finally:
            life.worker = None
            session_over.set()
            requeue.cancel()
            # Awaited, so that its last error (the app closing under a query) is taken, not logged by asyncio.
            await asyncio.gather(requeue, return_exceptions=True)


# The tick queued as procrastinate's periodic deferrer queues it, but now; a tick already waiting
# (another worker's) is the one (its queueing lock), and no duplicate-key error is raised or logged.
_TICK_NOW = f"""
INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args)
VALUES ('{QUEUE}', '{TICK_TASK}', '{TICK_LOCK}', '{TICK_LOCK}', jsonb_build_object('timestamp', %(timestamp)s::bigint))
ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
"""


async def _tick_now(app: App) -> None:
    """A worker that starts serving has the fleet look at what is due at once, not at the tick's
    next time: a minute by default, which a fleet started or restarted waited doing nothing."""
    await app.connector.execute_query_async(_TICK_NOW, timestamp=int(time.time()))


async def _sleep_unless(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout=seconds)
    except TimeoutError:
        return
