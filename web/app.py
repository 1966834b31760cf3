"""The ASGI application: ``create_app(config)`` wires the pages, the feeds and the JSON API.

Errors end here: a ``WebError`` (bad parameter, unknown id), an unknown route, a FastAPI
validation error and a database that cannot be read each become a page with a status and a
message (JSON ``{"status", "detail"}`` under ``/api``), never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone, tzinfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from monitor.config import Config
from monitor.inert import visible
from store.database import SessionFactory, open_engine, session_factory
from store.errors import StoreError

from web.api import install_api
from web.compare import api as compare_api, pages as compare_pages
from web.context import Clock, WebState, problem
from web.ending import api as ending_api, pages as ending_pages
from web.errors import WebError
from web.guard import Guard
from web.labels import Labels, labels_for
from web.pages import router as pages
from web.repairs import api as repairs_api, pages as repairs_pages
from web.search import api as search_api, pages as search_pages
from web.params import safe_href

__all__ = ["create_app", "open_sessions"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _in_config(config: Config) -> Callable[[str], bool]:
    """Whether a stored source is still configured: itself, or a list of a configured index
    (whose ids are ``<index id>-…``); a stored source removed from config.yaml is kept, not run."""
    configured = frozenset(source.id for source in config.sources)
    indexes = tuple(f"{source.id}-" for source in config.sources if source.is_index)
    return lambda source_id: source_id in configured or source_id.startswith(indexes)


def _shown(value: object) -> object:
    """Every value a page prints, its control and bidi characters shown as their escapes: escaping
    HTML left U+202E to turn a cell (a URL, a name) around on the reader's screen."""
    if isinstance(value, Markup):  # already HTML (a word diff): an escape written into it is plain text
        return Markup(visible(str(value)))
    return visible(value) if isinstance(value, str) else value


def _templates(labels: Labels, tz: tzinfo, in_config: Callable[[str], bool] = lambda source_id: True) -> Environment:
    env = Environment(loader=PackageLoader("web", "templates"), autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True,
                      finalize=_shown)
    env.filters["lt"] = lambda moment: moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "–"
    env.filters["href"] = safe_href
    env.globals["t"] = labels
    env.globals["in_config"] = in_config
    return env


def _validation_message(exc: RequestValidationError, t: Labels) -> str:
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error.get("loc", ())[1:]) or "?"
        problems.append(t.format("bad_param", name=name, value=str(error.get("input", ""))[:40]) + f" ({error.get('msg', '')})")
    return "; ".join(problems)


def _install_errors(app: FastAPI, labels: Labels) -> None:
    async def web_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WebError)
        return problem(request, exc.status, exc.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = {404: labels.not_found, 405: labels.not_allowed}.get(exc.status_code, str(exc.detail))
        return problem(request, exc.status_code, message)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem(request, 400, _validation_message(exc, labels))

    async def unavailable(request: Request, exc: Exception) -> Response:
        return problem(request, 503, labels.unavailable)

    app.add_exception_handler(WebError, web_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(SQLAlchemyError, unavailable)
    app.add_exception_handler(StoreError, unavailable)


def open_sessions(config: Config) -> SessionFactory:
    """The store, opened for reading; a SQLite file is brought up to date as every command does."""
    engine = open_engine(config.database.url, busy_timeout_s=config.database.busy_timeout_s)
    return session_factory(engine)


def create_app(config: Config, sessions: SessionFactory | None = None, *, clock: Clock = utc_now) -> Guard:
    """The web view over ``config``'s database (or ``sessions``), as an ASGI application."""
    labels = labels_for(config.web.language)
    # No redirect to a slash-less twin: a path either names a page or is a 404 saying what is missing.
    app = FastAPI(title="sesaku-monitor", version="1", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json", redirect_slashes=False,
                  description="Read-only view of measure lists, their versions, changes and link health.")
    app.state.web = WebState(config.web, labels, config.tz, sessions or open_sessions(config), _templates(labels, config.tz, _in_config(config)), clock)
    _install_errors(app, labels)
    app.include_router(search_pages)  # first: /sources/{id}.csv before /sources/{id}
    app.include_router(pages)
    app.include_router(search_api)
    app.include_router(ending_pages)
    app.include_router(ending_api)
    app.include_router(compare_pages)
    app.include_router(compare_api)
    app.include_router(repairs_pages)
    app.include_router(repairs_api)
    install_api(app)
    messages = {"not_allowed": labels.not_allowed, "unauthorized": labels.unauthorized}
    return Guard(app, config.web, messages)
