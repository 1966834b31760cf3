"""Times as people read them: in the configured ``timezone``, with the zone's name shown.

One format for every time printed for a person (``2026-12-01 17:29 JST``); JSON output keeps
ISO 8601 with its offset instead. The store writes UTC, so a time without a zone is UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

__all__ = ["local_time"]


def local_time(moment: datetime | str | None, tz: tzinfo, *, missing: str = "-") -> str:
    """``moment`` (a datetime or an ISO 8601 string) in ``tz`` as ``YYYY-MM-DD HH:MM ZONE``."""
    if moment is None or moment == "":
        return missing
    if isinstance(moment, str):
        try:
            when = datetime.fromisoformat(moment)
        except ValueError:
            return moment  # shown as given rather than dropped
    else:
        when = moment
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    local = when.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
