"""The configuration: one typed object, loaded once from config.yaml and passed in.

``${VAR}`` anywhere in a value is replaced from the environment before validation, so
secrets never need to be written in the file. Every problem is reported as one line that
names the file and the key (``config.yaml: sources[1].format: unknown format 'xml'``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from monitor.config.notifiers import NotifierConfig

from monitor.errors import ConfigError
from monitor.config.links import LinkSettings
from monitor.config.formats import format_names, options_model
from monitor.environment import DATABASE_URL_ENV, database_url_override, expand
from monitor.secrets import Secrets, redact_known, remember
from monitor.schedule import ScheduleSettings, ScheduleSpec, check_time_zone
from monitor.config.kinds import LinkPart, PaginationSettings, SourceKind, check_kind
from monitor.config.yaml_cache import load_yaml_cached
from monitor.config_view import keep_view
from monitor.gcpause import paused_gc

__all__ = ["Config", "SourceConfig", "config_problems", "HttpSettings", "GuardSettings", "DatabaseSettings", "load_config", "parse_config", "DATABASE_URL_ENV", "WebSettings", "WorkerSettings"]

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Strict):
    url: str = "sqlite:///data/monitor.db"
    busy_timeout_s: float = Field(30.0, gt=0)


class HttpSettings(_Strict):
    user_agent: str = "sesaku-monitor/0.1 (+https://github.com/sesaku-monitor; change-monitoring of public measure lists)"
    connect_timeout_s: float = Field(10.0, gt=0)
    read_timeout_s: float = Field(30.0, gt=0)
    total_timeout_s: float = Field(120.0, gt=0)
    max_bytes: int = Field(20_000_000, gt=0)
    max_redirects: int = Field(10, ge=0, le=50)
    allow_private_addresses: bool = False


class GuardSettings(_Strict):
    max_loss_share: float = Field(0.5, gt=0, le=1)
    min_records: int = Field(1, ge=1)
    max_growth_share: float = Field(1.0, gt=0)
    min_growth_rows: int = Field(20, ge=0)
    alert_after_failures: int = Field(1, ge=1, le=1000)
    """A source's ``source_failed`` is written only after this many failed runs in a row."""


class SourceConfig(_Strict):
    id: str
    title: str
    url: str
    format: str = "auto"
    key_columns: list[str] = Field(min_length=1)
    name_column: str
    url_columns: list[str] = Field(default_factory=list)
    end_date_columns: list[str] = Field(default_factory=list)
    ignore_columns: list[str] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    max_loss_share: float | None = Field(None, gt=0, le=1)
    max_growth_share: float | None = Field(None, gt=0)
    match_threshold: float = Field(70.0, ge=0, le=100)
    # An added measure this like one ended at most this many days ago is that one, reappeared.
    reappear_within_days: int = Field(400, ge=0, le=36_500)
    # Header as published → the column name it is read, stored and configured under.
    column_aliases: dict[str, str] = Field(default_factory=dict)
    schedule: ScheduleSpec | None = None  # None: the top-level schedule.sources
    kind: SourceKind = "list"
    pagination: PaginationSettings | None = None
    link_pattern: str | None = None
    link_id_pattern: str | None = None
    link_context: list[LinkPart] | None = None  # None: text, title and href (index_links)
    # (index, ckan) More lists than an index has (a page linking every file of a site, or built
    # to): suspect, none fetched, so one page cannot make a run fetch and store 100,000 lists.
    max_lists: int = Field(1000, ge=1, le=100_000)
    encoding: str | None = None  # None: the BOM, the declared charset, UTF-8, then detection
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lower-case letters, digits, '.', '_' or '-' (it names the source forever)")
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.lower().startswith(("https://", "http://", "file://")):
            raise ValueError(f"must start with https://, http:// or file:// (got {value[:60]!r})")
        return value

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, value: str | None, info: ValidationInfo) -> str | None:
        try:
            # Decoding refuses an unknown name, and a codec that is not a text encoding (base64).
            b"a".decode(value or "utf-8", "replace")
        except LookupError:
            source = info.data.get("id", "?")
            raise ValueError(f"source {source!r}: unknown text encoding {value!r} (e.g. utf-8, cp932, shift_jis, euc-jp)") from None
        return value

    @field_validator("column_aliases")
    @classmethod
    def _check_aliases(cls, value: dict[str, str]) -> dict[str, str]:
        for header, name in value.items():
            if not header.strip() or not name.strip():
                raise ValueError(f"each entry is 'header as published: name it is read as', both given (got {header!r}: {name!r})")
        return value

    @field_validator("format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        if value not in format_names():
            raise ValueError(f"unknown format {value!r} (known: {', '.join(format_names())})")
        return value

    @field_validator("options")
    @classmethod
    def _check_options(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        # A ValidationError raised here is reported at sources[N].options.<key>, one per key.
        if "format" in info.data:
            options_model(info.data["format"]).model_validate(value)
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> "SourceConfig":
        check_kind(self.id, self.kind, self.link_pattern, self.link_id_pattern, self.link_context)
        return self

    @property
    def is_index(self) -> bool:
        """An index page or a CKAN dataset: what it yields are lists, each run as a source ``<id>-<slug>``."""
        return self.kind in ("index", "ckan")

    @property
    def shown_url(self) -> str:
        """The url as stored, shown, logged and sent: each secret from ``${VAR}`` as its name."""
        return redact_known(self.url)

    @property
    def columns(self) -> set[str]:
        """Every column this source's configuration names: the header must have them all."""
        return {*self.key_columns, self.name_column, *self.url_columns, *self.end_date_columns, *(self.ignore_columns or [])}


class WebSettings(_Strict):
    """The read-only web view (``sesaku-monitor serve``)."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    language: Literal["ja", "en"] = "ja"
    # Absolute links in feeds; by default http://host:port as configured (never a request's Host).
    base_url: str | None = None
    # Either (or both) turn access control on: `Authorization: Bearer <token>` / HTTP Basic.
    token: str | None = Field(None, min_length=1)
    username: str = "sesaku"
    password: str | None = Field(None, min_length=1)
    page_size: int = Field(50, ge=1, le=500)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("https://", "http://")):
            raise ValueError(f"must start with https:// or http:// (got {value[:60]!r})")
        return value.rstrip("/") if value else value


class WorkerSettings(_Strict):
    """The fleet (``sesaku-monitor worker``, PostgreSQL only): ticks, retries, dead workers."""

    # When the fleet looks for due jobs: a crontab line, 5 fields, or 6 with seconds last.
    tick: str = "* * * * *"
    concurrency: int = Field(4, ge=1, le=64)
    retries: int = Field(4, ge=0, le=20)
    # A failed job waits retry_backoff_s ** attempt seconds before it runs again (2, 4, 8 …).
    retry_backoff_s: int = Field(2, ge=1, le=60)
    heartbeat_s: float = Field(10.0, gt=0)
    # A worker silent this long is dead: its jobs are run again by another.
    stalled_after_s: float = Field(60.0, gt=0)
    # After SIGTERM the running jobs get this long; then the worker exits 1, naming what it left.
    shutdown_grace_s: float = Field(30.0, gt=0)
    # Failed, cancelled and aborted jobs are kept this long for a look (`status`), then removed
    # (hourly); succeeded jobs leave the queue at once. 0: never removed.
    keep_jobs_days: int = Field(7, ge=0, le=3650)

    @model_validator(mode="after")
    def _stall_after_beats(self) -> "WorkerSettings":
        if self.stalled_after_s < 2 * self.heartbeat_s:
            raise ValueError("stalled_after_s must be at least twice heartbeat_s (else a live worker looks dead)")
        return self


class Config(_Strict):
    database: DatabaseSettings = DatabaseSettings()
    timezone: str = "Asia/Tokyo"
    http: HttpSettings = HttpSettings()
    guard: GuardSettings = GuardSettings()
    sources: list[SourceConfig] = Field(default_factory=list)
    schedule: ScheduleSettings = ScheduleSettings()
    web: WebSettings = WebSettings()
    notifiers: list[NotifierConfig] = Field(default_factory=list)
    worker: WorkerSettings = WorkerSettings()
    links: LinkSettings = LinkSettings()

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        return check_time_zone(value)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Config":
        seen: set[str] = set()
        for source in self.sources:
            if source.id in seen:
                raise ValueError(f"source id {source.id!r} is used twice")
            seen.add(source.id)
        return self

    @model_validator(mode="after")
    def _check_notifiers(self) -> "Config":
        seen: set[str] = set()
        for index, notifier in enumerate(self.notifiers):
            if notifier.id in seen:
                raise ValueError(f"notifier id {notifier.id!r} is used twice")
            seen.add(notifier.id)
            unknown = [i for i in notifier.sources or () if not self._names_a_source(i)]
            if unknown:
                raise ValueError(f"notifiers[{index}].sources: no source with id {unknown[0]!r}")
        return self

    def _names_a_source(self, source_id: str) -> bool:
        """A configured source, or a list found on an index page (``<index id>-<slug>``)."""
        return any(s.id == source_id or (s.is_index and source_id.startswith(f"{s.id}-")) for s in self.sources)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def notifier(self, notifier_id: str) -> NotifierConfig:
        for notifier in self.notifiers:
            if notifier.id == notifier_id:
                return notifier
        raise ConfigError(f"no notifier with id {notifier_id!r} (configured: {_some(n.id for n in self.notifiers)})")

    @cached_property
    def _sources_by_id(self) -> dict[str, SourceConfig]:
        # The scheduler's tick looks a source up per unit: a scan made it quadratic in the lists.
        return {source.id: source for source in self.sources}

    def source(self, source_id: str) -> SourceConfig:
        found = self._sources_by_id.get(source_id)
        if found is None:
            raise ConfigError(f"no source with id {source_id!r} (configured: {_some(s.id for s in self.sources)})")
        return found


def _some(ids: Iterable[str], shown: int = 10) -> str:
    """A few of the configured ids for an error line (a national config has thousands)."""
    names = list(ids)
    if not names:
        return "none"
    more = f", … {len(names)} in all" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith(("function-", "model-")):
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _problems(exc: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """Every problem pydantic found, in order: where (its location) and what is wrong, in our words."""
    found = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        found.append((tuple(error["loc"]), message))
    return found


def _first_problem(exc: ValidationError) -> str:
    (loc, message), *rest = _problems(exc)
    more = f" (and {len(rest)} more problem{'s' if len(rest) > 1 else ''}: `sesaku-monitor config check` lists them)" if rest else ""
    return f"{_location(loc)}: {message}{more}"


def _prepared(data: Any, where: str) -> tuple[Any, Secrets]:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys at the top level")
    data, secrets = expand(data, where, Secrets())
    override = database_url_override()
    if override:
        data = {**data, "database": {**(data.get("database") or {}), "url": override}}
    return data, secrets


def parse_config(data: Any, where: str = "config") -> Config:
    data, secrets = _prepared(data, where)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        # A refused value is quoted in the message: the secret in it must not be.
        raise ConfigError(f"{where}: {secrets.redact(_first_problem(exc))}") from None
    remember(secrets)
    return config


def config_problems(data: Any, where: str = "config") -> list[tuple[tuple[Any, ...], str, str]]:
    """Every problem of a read config.yaml at once as (location, key, message), secrets redacted: [] when it loads.

    A problem found before validation (a missing ``${VAR}``) is a ConfigError, as in parse_config.
    """
    data, secrets = _prepared(data, where)
    try:
        Config.model_validate(data)
    except ValidationError as exc:
        return [(loc, _location(loc), secrets.redact(message)) for loc, message in _problems(exc)]
    return []


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; a missing file, bad YAML or YAML past strict_yaml's limits is a ConfigError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    # 18,000 sources are a million objects, freed by reference count alone: the cycle collector, run
    # every 700 new objects, walked them all again and again (almost half of the reading time).
    with paused_gc():
        data = load_yaml_cached(raw, str(path))
        config = parse_config(data, str(path))
    keep_view(raw, str(path), config, data)  # what `status` reads, for the next process that reads these bytes
    return config

