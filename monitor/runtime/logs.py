"""The daemon's log: one line per event worth knowing, as text or JSON, never a secret.

Every line goes through :func:`redact`, so a secret the config took from ``${VAR}``, a
password in a database or webhook URL, or a token in a query string never reaches a log
file, whoever wrote the message (httpx's and httpcore's debug lines too). Extra fields
given as ``log.info("…", extra={"job": …})`` become JSON keys.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from monitor.secrets import redact

__all__ = ["setup_logging", "setup_cli_logging", "JsonFormatter", "TextFormatter"]

# The attributes every LogRecord has; anything else was passed as `extra`.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD and not key.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, msg, the extras and any error."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value …``"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        # A field without a value says nothing ("result=None"): people read these lines.
        extras = " ".join(f"{key}={value}" for key, value in _extras(record).items() if value is not None)
        return redact(f"{line} {extras}" if extras else line)


def setup_cli_logging(level: int) -> None:
    """A one-shot command's lines on stderr, redacted like the daemon's, libraries' debug included."""
    _install(TextFormatter(), level)


def setup_logging(*, as_json: bool, level: int = logging.INFO) -> None:
    """Send every log line to stderr in the chosen form, replacing earlier handlers."""
    _install(JsonFormatter() if as_json else TextFormatter(), level)
    # APScheduler says "Running job …" at every run, Alembic describes its context at every
    # start and httpx logs every request (millions of link checks a week); our own lines say
    # what matters.
    for chatty in ("apscheduler", "alembic", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def _install(formatter: logging.Formatter, level: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
