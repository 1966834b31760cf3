"""The health endpoint: 200 with the last run times while the scheduler is alive and every
job keeps its rhythm, 503 when the scheduler stopped or a job has not started for twice
its period.

:func:`assess` is pure (it takes ``now``); :class:`HealthServer` is a stdlib HTTP server on
127.0.0.1 in a thread, asking a callable for the answer at each request, so a container's
HEALTHCHECK or a load balancer can poll it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from store.models import JobState

from monitor.schedule import ScheduleSpec, is_stale, period_at

__all__ = ["Health", "assess", "HealthServer"]

log = logging.getLogger("sesaku_monitor.health")


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    body: dict[str, Any]

    @property
    def http_status(self) -> int:
        return 200 if self.ok else 503


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def assess(
    jobs: Sequence[tuple[str, ScheduleSpec]], states: Mapping[str, JobState], *, alive: bool,
    started_at: datetime, now: datetime, tz: tzinfo, slack: timedelta,
) -> Health:
    """Is the daemon doing its work? ``slack`` covers jitter and one run's own duration."""
    report: dict[str, Any] = {}
    stale: list[str] = []
    for name, spec in jobs:
        state = states.get(name)
        started = state.last_started_at if state else None
        late = is_stale(spec, started, started_at, now, tz, slack)
        if late:
            stale.append(name)
        report[name] = {
            "last_started_at": _iso(started), "last_success_at": _iso(state.last_success_at if state else None),
            "last_error": state.last_error if state else None,
            "period_s": period_at(spec, now, tz).total_seconds(), "stale": late,
        }
    ok = alive and not stale
    status = "ok" if ok else ("stopped" if not alive else "stale")
    return Health(ok, {"status": status, "scheduler_alive": alive, "started_at": started_at.isoformat(), "now": now.isoformat(), "stale": stale, "jobs": report})


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args: object) -> None:
        return  # a poll every few seconds is not an event worth a log line

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] not in ("/", "/health", "/healthz"):
            self._send(404, {"error": "not found; try /health"})
            return
        try:
            health = self.server.check()
        except Exception as exc:  # the answer itself failed (e.g. the database): that is unhealthy
            log.warning("health check failed: %s", exc)
            self._send(503, {"status": "error", "error": f"{type(exc).__name__}: {exc}"})
            return
        self._send(health.http_status, health.body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    check: Callable[[], Health]


class HealthServer:
    """``HealthServer(port, check).start()``; port 0 picks a free one (see :attr:`port`)."""

    def __init__(self, port: int, check: Callable[[], Health], host: str = "127.0.0.1") -> None:
        self._server = _Server((host, port), _Handler)
        self._server.check = check
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> "HealthServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
