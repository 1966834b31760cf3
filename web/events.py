"""An ``events`` row as people read it: a one-line summary, details, and the page it is about.

Payloads come from lists and pages on the internet, so every value is treated as untrusted
text of unknown shape: a missing key or a value of the wrong type gives an empty string,
never an error. Escaping is left to the templates and to feedgen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from store.models import Event

from web.labels import Labels
from web.schemas import EventView
from web.textdiff import FieldChange, field_changes

__all__ = ["event_view", "event_page"]

_MEASURE_KINDS = {"added", "ended", "changed", "renamed", "expired", "reappeared"}
_LINK_KINDS = {"link_dead", "link_recovered", "link_moved", "page_changed"}


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _moment(text: str, tz: tzinfo) -> str:
    """An ISO time from a payload in local time; anything else as it came."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment.tzinfo else text


def event_page(event: Event) -> str:
    """The path of the page an event is about (a feed entry links there)."""
    if event.measure_id is not None:
        return f"/measures/{event.measure_id}"
    if event.link_id is not None:
        return f"/links/{event.link_id}"
    if event.source_id is not None:
        return f"/sources/{event.source_id}"
    return "/changes"


def _changed_fields(payload: Mapping[str, Any]) -> list[FieldChange]:
    raw = payload.get("fields")
    if not isinstance(raw, dict):
        return []
    old, new = {}, {}
    for column, change in raw.items():
        if isinstance(change, dict):
            old[str(column)], new[str(column)] = _text(change, "old"), _text(change, "new")
    return list(field_changes(old, new).values())


def _summary(kind: str, payload: Mapping[str, Any], source_title: str, t: Labels) -> str:
    label = t.kind_label(kind)
    if kind == "renamed":
        return f"{label}: " + t.format("renamed_to", old=_text(payload, "old_name"), new=_text(payload, "new_name") or _text(payload, "name"))
    if kind == "edition_changed":
        return f"{label}: " + t.format("renamed_to", old=_text(payload, "old_edition") or "–", new=_text(payload, "new_edition") or "–")
    if kind in _MEASURE_KINDS:
        return f"{label}: {_text(payload, 'name')}"
    if kind in _LINK_KINDS:
        return f"{label}: {_text(payload, 'url')}"
    subject = _text(payload, "title") or _text(payload, "url") or source_title
    return f"{label}: {subject}" if subject else label


def _details(kind: str, payload: Mapping[str, Any], fields: list[FieldChange], t: Labels, tz: tzinfo) -> list[str]:
    lines: list[str] = []
    if fields and kind in ("changed", "renamed"):
        separator = "、" if t.language == "ja" else ", "
        lines.append(t.format("fields_changed", fields=separator.join(f.column for f in fields)))
    if _text(payload, "end_date"):
        lines.append(f"{t.end_date}: {_text(payload, 'end_date')}")
    if kind == "link_dead":
        status = _text(payload, "http_status")
        lines.append(f"{t.outcome}: {t.outcome_label(_text(payload, 'outcome'))}" + (f" (HTTP {status})" if status else ""))
    if _text(payload, "since"):
        lines.append(f"{t.since}: {_moment(_text(payload, 'since'), tz)}")
    if _text(payload, "final_url"):
        lines.append(t.format("moved_to", url=_text(payload, "final_url")))
    if _text(payload, "summary"):
        lines.append(f"{t.what}: {_text(payload, 'summary')}")
    if _text(payload, "error"):
        lines.append(f"{t.error}: {_text(payload, 'error')}")
    lines.extend(_cited_by(payload, t))
    return lines


def _cited_by(payload: Mapping[str, Any], t: Labels) -> list[str]:
    measures = payload.get("measures")
    if not isinstance(measures, list):
        return []
    names = [_text(m, "name") for m in measures if isinstance(m, dict) and _text(m, "name")]
    return [f"{t.cited_by}: " + " / ".join(names[:10]) + (" …" if len(names) > 10 else "")] if names else []


def event_view(event: Event, source_titles: Mapping[str, str], t: Labels, tz: tzinfo) -> EventView:
    payload = event.payload if isinstance(event.payload, dict) else {}
    source_title = source_titles.get(event.source_id or "", "")
    fields = _changed_fields(payload) if event.kind in ("changed", "renamed") else []
    return EventView(
        id=event.id, kind=event.kind, kind_label=t.kind_label(event.kind), created_at=event.created_at,
        source_id=event.source_id, source_title=source_title or None, measure_id=event.measure_id, link_id=event.link_id,
        summary=_summary(event.kind, payload, source_title, t), details=_details(event.kind, payload, fields, t, tz),
        fields=fields, url=_text(payload, "url") or None, page=event_page(event), payload=payload,
    )
