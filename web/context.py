"""What every request handler reaches for: the app's ``WebState``, a Reader, and rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment

from monitor.config import WebSettings
from store.database import SessionFactory

from web.labels import Labels
from web.views import Reader

__all__ = ["Clock", "WebState", "state_of", "reader", "render", "problem"]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class WebState:
    """What every request needs: settings, labels, time zone, the store and the templates."""

    settings: WebSettings
    labels: Labels
    tz: tzinfo
    sessions: SessionFactory
    templates: Environment
    clock: Clock


def state_of(request: Request) -> WebState:
    return request.app.state.web


def reader(request: Request) -> Iterator[Reader]:
    """A FastAPI dependency: one session per request, only read from, closed afterwards."""
    state = state_of(request)
    with state.sessions() as session:
        yield Reader(session, state.labels, state.tz, state.settings.page_size)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    state = state_of(request)
    html = state.templates.get_template(template).render(root=request.scope.get("root_path", ""), request_path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


def problem(request: Request, status: int, message: str) -> Response:
    """An error as a page, or as JSON ``{"status", "detail"}`` under /api."""
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        return JSONResponse({"status": status, "detail": message}, status_code=status)
    return render(request, "error.html", status=status, status_code=status, message=message)
