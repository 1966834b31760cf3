"""Secrets: what ``${VAR}`` put into the configuration, and their redacted form.

Whatever the environment substituted into a config value (a password in a URL's userinfo,
an API key in its query, a token in its path, a whole webhook URL) is a secret from the
moment the config is loaded. The config keeps the real value, for fetching and sending;
everything that is stored, shown, logged or sent gets :meth:`Secrets.redact`'s form, where
each secret reads as the name of its variable (``${PW}``): the operator sees which one.

The secrets of the config last loaded are :func:`remember`-ed process-wide, because the ways
out are process-wide too: log handlers, and the database, where :func:`guard_store` makes every
ORM flush redact the columns that carry URLs, errors and payloads (one choke point instead
of a redaction at each of the many places that write them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["Secrets", "guard_store", "known", "redact", "redact_known", "remember", "scrub"]

# A value this short ("1", "yes", a port) is hidden only inside the whole string it was
# substituted into: replaced everywhere, it would mangle unrelated text.
MIN_FREE_LENGTH = 4


@dataclass(frozen=True)
class Secrets:
    """Each substituted value and the variable it came from, and each expanded string as written."""

    names: Mapping[str, str] = field(default_factory=dict)
    written: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Secrets({', '.join(sorted(set(self.names.values())))})"

    def __bool__(self) -> bool:
        return bool(self.names)

    def merged(self, other: Secrets) -> Secrets:
        return Secrets({**self.names, **other.names}, {**self.written, **other.written})

    def redact(self, text: str) -> str:
        """``text`` with every expanded string put back as written, then every secret as ``${NAME}``."""
        for expanded in sorted(self.written, key=len, reverse=True):
            if expanded in text:
                text = text.replace(expanded, self.written[expanded])
        for value, name in self._free_forms():
            if value in text:
                text = text.replace(value, f"${{{name}}}")
        return text

    def _free_forms(self) -> list[tuple[str, str]]:
        # A URL's secrets may reach a message percent-encoded (httpx normalises the URL).
        forms = {form: name for value, name in self.names.items() if len(value) >= MIN_FREE_LENGTH
                 for form in (value, quote(value, safe=""), quote_plus(value))}
        return sorted(forms.items(), key=lambda item: len(item[0]), reverse=True)


_known = Secrets()


def remember(secrets: Secrets) -> None:
    """Make a loaded config's secrets those every log line and database write is cleaned of."""
    global _known
    # Replaced, not added to: a value that stopped being a secret (a reloaded config, another
    # test's config) would otherwise be hidden from ordinary text forever.
    _known = secrets
    if secrets:
        guard_store()


def known() -> Secrets:
    return _known


def redact_known(text: str) -> str:
    return _known.redact(text) if _known else text


def scrub(data: Any, secrets: Secrets | None = None) -> Any:
    """A copy of JSON-like ``data`` (dicts, lists, strings) with every secret redacted."""
    secrets = _known if secrets is None else secrets
    if not secrets:
        return data
    if isinstance(data, str):
        return secrets.redact(data)
    if isinstance(data, dict):
        return {key: scrub(value, secrets) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [scrub(value, secrets) for value in data]
    return data


_columns: dict[type, tuple[str, ...]] = {}


def guard_store() -> None:
    """Make every ORM flush, in any session of this process, redact the known secrets first."""
    if _columns:
        return
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from store.models import Delivery, Event, JobState, Snapshot, Source

    # The columns that carry a URL, an error or a payload; measure fields are the list's own text.
    _columns.update({Source: ("url", "title"), Snapshot: ("error", "warnings"), Event: ("payload",), JobState: ("last_error",), Delivery: ("payload", "last_error")})
    event.listen(Session, "before_flush", _scrub_pending)


def _scrub_pending(session: Any, _context: Any, _instances: Any) -> None:
    if not _known:
        return
    for row in (*session.new, *session.dirty):
        for column in _columns.get(type(row), ()):
            value = getattr(row, column)
            if value is not None:
                cleaned = scrub(value)
                if cleaned != value:
                    setattr(row, column, cleaned)


# scheme://user:password@host → scheme://user:***@host
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/?#@\s]*):(?P<password>[^@/?#\s]+)@")
_SECRET_PARAM = re.compile(r"(?P<key>[?&;](?:[a-z_]*(?:token|secret|password|passwd|apikey|api_key|key|sig|signature)))=(?P<value>[^&#\s\"']+)", re.IGNORECASE)
# A secret already shown as the name of its variable: the better form, kept.
_NAMED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def redact(text: str) -> str:
    """Hide the config's known secrets, then any password in a URL and secret-looking query parameters."""
    text = _USERINFO.sub(lambda m: m[0] if _NAMED.fullmatch(m["password"]) else f"{m['scheme']}{m['user']}:***@", redact_known(text))
    return _SECRET_PARAM.sub(lambda m: m[0] if _NAMED.fullmatch(m["value"]) else f"{m['key']}=***", text)
