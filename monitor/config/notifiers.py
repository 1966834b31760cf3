"""One notifier's entry in config.yaml, validated when the configuration loads.

What a notifier wants (which lists and kinds of event, when, in which language, with which
templates) is common to every type; how it delivers is its ``options:``, checked by the
type's own model (:func:`monitor.config.notifier_options.parse_options`) at load time, so a typo in an
SMTP setting is an error on start, never a failed digest at 8 a.m.::

    notifiers:
      - id: team-mail
        type: email
        sources: [tokyo-tama-strategy2]     # default: every source
        kinds: [added, ended, link_dead]    # default: every kind
        schedule: {cron: "0 8 * * *"}       # default: after_run
        ending_within_days: 90              # default: no 「90日以内に終了予定」 section
        since: 2026-04-01                   # default: a notifier first seen starts from then
        settle_s: 30                        # after_run: wait this long after a wave of list runs
        options: {smtp_host: smtp.example.jp, sender: monitor@example.jp, recipients: [team@example.jp]}
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from monitor.errors import ConfigError, NotifyError
from monitor.schedule import ScheduleSpec

from monitor.events import KINDS
from monitor.config.notifier_options import NOTIFIER_OPTIONS, NotifierOptions, parse_options

__all__ = ["AFTER_RUN", "TEMPLATE_NAMES", "NotifierConfig", "check_template_dir"]

AFTER_RUN = "after_run"
TEMPLATE_NAMES = ("subject.txt.j2", "digest.txt.j2", "digest.html.j2")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


class NotifierConfig(BaseModel):
    """A notifier: its filters, its timing and its type's ``options``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    type: str
    sources: list[str] | None = None  # None: every source
    kinds: list[str] | None = None  # None: every kind
    # None: after every run that has events (``schedule: after_run``); else a digest on its own rhythm.
    schedule: ScheduleSpec | None = None
    language: Literal["ja", "en"] = "ja"
    base_url: str | None = None  # None: web.base_url
    template_dir: str | None = None
    all_quiet: bool = False
    # A section 「{N}日以内に終了予定」 in every digest sent: the notifier's lists' measures ending
    # within N days of the digest's day. None or 0: no section. It never makes a digest be sent.
    ending_within_days: int | None = Field(None, ge=0, le=3_650)
    max_attempts: int = Field(8, ge=1, le=100)
    # Where a notifier first seen (no cursor yet) starts: events from this date (00:00 in
    # ``timezone``) or moment on. None: from the moment it is first seen, never the back history.
    since: date | datetime | None = None
    # An after_run digest waits until no list has started a run for this long, so that a wave
    # of list runs becomes one digest (never longer than SETTLE_CAP times this in all).
    settle_s: float = Field(30.0, ge=0, le=3_600)
    # Last, so that the validator below sees ``type`` already checked.
    options: NotifierOptions

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lower-case letters, digits, '.', '_' or '-' (it names the notifier's cursor forever)")
        return value

    @field_validator("type")
    @classmethod
    def _check_type(cls, value: str) -> str:
        if value not in NOTIFIER_OPTIONS:
            raise ValueError(f"unknown notifier type {value!r} (known: {', '.join(sorted(NOTIFIER_OPTIONS))})")
        return value

    @field_validator("kinds")
    @classmethod
    def _check_kinds(cls, values: list[str] | None) -> list[str] | None:
        for value in values or []:
            if value not in KINDS:
                raise ValueError(f"unknown event kind {value!r} (known: {', '.join(KINDS)})")
        return values

    @field_validator("schedule", mode="before")
    @classmethod
    def _after_run(cls, value: Any) -> Any:
        if value == AFTER_RUN or value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError(f'must be {AFTER_RUN}, {{cron: "0 8 * * *"}} or {{every: 1d}}')
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("https://", "http://")):
            raise ValueError(f"must start with https:// or http:// (got {value[:60]!r})")
        return value

    @field_validator("template_dir")
    @classmethod
    def _check_templates(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_template_dir(value)
            except NotifyError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("options", mode="before")
    @classmethod
    def _parse_options(cls, value: Any, info: ValidationInfo) -> Any:
        type_name = info.data.get("type")
        if type_name is None:  # the bad type is reported on its own key
            raise ValueError("cannot be checked: the notifier type is wrong")
        if not isinstance(value, dict):
            raise ValueError(f"must be a mapping of the {type_name} notifier's keys")
        try:
            return parse_options(type_name, value)
        except ConfigError as exc:
            # One line naming the bad keys, never their values (they may be passwords).
            raise ValueError(str(exc)) from None

    def since_at(self, tz: tzinfo) -> datetime | None:
        """``since`` as a moment: a date is its midnight in ``tz``, a datetime without offset is in ``tz``."""
        if self.since is None:
            return None
        if not isinstance(self.since, datetime):
            return datetime.combine(self.since, time(), tz)
        return self.since if self.since.tzinfo else self.since.replace(tzinfo=tz)

    @property
    def after_run(self) -> bool:
        return self.schedule is None

    def when(self) -> str:
        return AFTER_RUN if self.schedule is None else self.schedule.describe()


def check_template_dir(template_dir: str | Path) -> None:
    """Parse a user's templates, so that a syntax error is found when the config loads."""
    import jinja2  # only for a configured template folder

    folder = Path(template_dir)
    if not folder.is_dir():
        raise NotifyError(f"template directory {template_dir} does not exist")
    for name in TEMPLATE_NAMES:
        path = folder / name
        if not path.is_file():
            continue  # the built-in template is used
        try:
            jinja2.Environment().parse(path.read_text(encoding="utf-8"), name, str(path))
        except jinja2.TemplateSyntaxError as exc:
            message = " ".join((exc.message or "").split())
            raise NotifyError(f"template {exc.filename or name}, line {exc.lineno}: {message}") from exc
