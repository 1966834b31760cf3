"""What ``status`` reads of config.yaml, kept by the last full load that checked the same bytes.

A full load validates every source as a pydantic model: at 18,000 lists that, with the import
of the whole schema, was ~0.35 s of CPU, a third of ``status``. ``status`` needs a few values
of it: each source's id, title, schedule and whether it is enabled, the default schedule, the
time zone, the database, the pid file and the fleet's stall time. :func:`keep_view` (called by
``load_config`` once a file passed) writes them beside the YAML cache; :func:`read_view` gives
them back only while the file's bytes (sha256) and the schema's code (every module of
``monitor``'s root and of ``monitor/config``, and pydantic's version) are the very ones they
were checked with. Anything else, and any file or entry that cannot be read, is None: the
caller loads the file in full, which checks it and keeps a new view.

Secrets: the view keeps values as the file writes them (``${PW}``, never what it stood for),
and :func:`read_view` substitutes them from this process's environment, as a full load does;
a variable the file names that is not set sends the caller to the full load, whose error
names it. A file whose kept settings other than the database URL and the titles take a value
from the environment is never kept: what the environment gives them could fail the check.
JSON, never pickle: the cache holds data, not code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from monitor.cache_files import cache_dir, write_private
from monitor.environment import VAR, database_url_override, expand
from monitor.cadence import Cadence, Timing
from monitor.secrets import Secrets, remember

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["ConfigView", "SourceView", "keep_view", "read_view", "schema_stamp"]

_MONITOR = Path(__file__).resolve().parent


class SourceView(NamedTuple):  # a tuple: 18,000 dataclasses took several times as long to build
    id: str
    title: str
    schedule: Cadence | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class DatabaseView:
    url: str
    busy_timeout_s: float


@dataclass(frozen=True, slots=True)
class ScheduleView:
    sources: Cadence
    pid_file: str | None


@dataclass(frozen=True, slots=True)
class WorkerView:
    stalled_after_s: float


@dataclass(frozen=True, slots=True)
class ConfigView:
    """The values of :class:`monitor.config.Config` that ``status`` reads, under the same names."""

    timezone: str
    database: DatabaseView
    schedule: ScheduleView
    worker: WorkerView
    sources: list[SourceView]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def schema_stamp() -> str:
    """The sha256 of the code that checks a config file: a change to any of it is a new schema."""
    digest = hashlib.sha256()
    files = sorted([*_MONITOR.glob("*.py"), *(_MONITOR / "config").glob("*.py")])
    pydantic = importlib.util.find_spec("pydantic")  # found, not imported
    if pydantic is not None and pydantic.origin:
        files.append(Path(pydantic.origin).with_name("version.py"))
    for path in files:
        digest.update(f"{path.name}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _view_path(where: str) -> Path:
    # One entry per config file, as yaml_cache keeps: an edited file replaces it.
    return cache_dir() / f"view-{hashlib.sha256(str(Path(where).resolve()).encode()).hexdigest()[:32]}.json"


def _header(raw: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(raw).hexdigest(), "schema": schema_stamp()}


def _same_bytes_and_schema(kept: IO[str], header: dict[str, str]) -> dict[str, Any] | None:
    """The kept entry's first line, when it was kept for ``header``'s bytes and schema."""
    found = json.loads(kept.readline())
    if isinstance(found, dict) and {key: found.get(key) for key in header} == header:
        return found
    return None


def keep_view(raw: bytes, where: str, config: Config, data: Any) -> None:
    """After ``config`` was validated from ``data`` (the file's data before ``${VAR}``), keep
    what ``status`` reads, unless the entry for these bytes and this schema is already there."""
    path, header = _view_path(where), _header(raw)
    try:
        with path.open(encoding="utf-8") as kept:
            if _same_bytes_and_schema(kept, header) is not None:
                return
    except (OSError, ValueError):
        pass  # none yet, or unreadable: written anew
    view = _kept(config, data if isinstance(data, dict) else {})
    if view is not None:
        names = sorted(set(VAR.findall(json.dumps(data, ensure_ascii=False, default=str))))
        write_private(path, json.dumps({**header, "vars": names}) + "\n" + json.dumps(view, ensure_ascii=False))


def _kept(config: Config, data: dict[str, Any]) -> dict[str, Any] | None:
    """The view's data; None when a kept setting (other than the database URL and the titles)
    takes a value from the environment."""
    database = data.get("database") or {}
    written = data.get("sources") or []
    fixed = [data.get("timezone"), database.get("busy_timeout_s"), data.get("schedule"), data.get("worker"),
             [(source.get("schedule"), source.get("enabled")) for source in written]]
    try:
        if "${" in json.dumps(fixed, default=str):
            return None
    except (TypeError, ValueError):
        return None
    url = database.get("url")
    return {
        "timezone": config.timezone,
        "database": {"url": url if isinstance(url, str) else type(config.database).model_fields["url"].default,
                     "busy_timeout_s": config.database.busy_timeout_s},
        "schedule": {"sources": _spec(config.schedule.sources), "pid_file": config.schedule.pid_file},
        "worker": {"stalled_after_s": config.worker.stalled_after_s},
        # The id as checked (no `$` can pass its pattern); the title as written, substituted when read.
        "sources": [[source.id, raw["title"], _spec(source.schedule) if source.schedule else None, source.enabled]
                    for source, raw in zip(config.sources, written, strict=True)],
    }


def _spec(spec: Timing) -> list[Any]:
    return ["every", spec.every.total_seconds()] if spec.every is not None else ["cron", spec.cron]


def _schedule(kept: list[Any], made: dict[tuple[Any, ...], Cadence]) -> Cadence:
    """The checked schedule again, one object for each distinct one (most lists share one)."""
    key = tuple(kept)
    if key not in made:
        kind, value = key
        # Plain values, not the pydantic model: they passed as these very values, and status needs no schema.
        made[key] = Cadence(timedelta(seconds=value), None) if kind == "every" else Cadence(None, str(value))
    return made[key]


def read_view(path: str | Path) -> ConfigView | None:
    """The view of ``path`` kept by a full load of these bytes under this schema, its ``${VAR}``
    substituted from the environment; None when there is none (load the file in full)."""
    try:
        raw = Path(path).read_bytes()
        with _view_path(str(path)).open(encoding="utf-8") as kept:
            found = _same_bytes_and_schema(kept, _header(raw))
            if found is None:
                return None
            names = found.get("vars")
            if not isinstance(names, list) or not all(isinstance(name, str) and VAR.fullmatch(f"${{{name}}}") for name in names):
                return None
            if any(name not in os.environ for name in names):
                return None  # the full load says which is missing
            return _view(json.loads(kept.read()), str(path))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _view(data: dict[str, Any], where: str) -> ConfigView:
    secrets = Secrets()
    made: dict[tuple[Any, ...], Cadence] = {}
    sources = []
    for index, (source_id, title, schedule, enabled) in enumerate(data["sources"]):
        if "${" in title:
            title, secrets = expand(title, f"{where}.sources[{index}].title", secrets)
        sources.append(SourceView(source_id, title, _schedule(schedule, made) if schedule else None, bool(enabled)))
    url, secrets = expand(data["database"]["url"], f"{where}.database.url", secrets)
    remember(secrets)
    database = DatabaseView(database_url_override() or url, float(data["database"]["busy_timeout_s"]))
    schedule = ScheduleView(_schedule(data["schedule"]["sources"], made), data["schedule"]["pid_file"])
    return ConfigView(str(data["timezone"]), database, schedule, WorkerView(float(data["worker"]["stalled_after_s"])), sources)
