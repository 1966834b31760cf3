"""An ``events`` row as people read it: a one-line summary, details, and the page it is about.

The payload is read once, into its typed form (monitor.events.read_payload), which already
turns a missing key or a value of the wrong shape into an empty value; field changes are
shown as the pipeline stored them. Escaping is left to the templates and to feedgen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo

from store.models import Event

from monitor.events import (ChangedFields, CitingMeasure, ColumnRenamed, EditionChanged, Expired, LinkDead, LinkMoved, LinkRecovered,
                            ListAdded, MeasurePayload, PageChanged, Payload, Rekeyed, Renamed, SourceFailed, SourceSuspect, Unknown,
                            read_payload)
from monitor.labels import rekey_facts

from monitor.messages import name_column_of
from web.labels import Labels
from web.schemas import EventView
from web.textdiff import FieldChange, shown_changes

__all__ = ["changes_by_snapshot", "event_view", "event_page"]

_LINK_PAYLOADS = (LinkDead, LinkRecovered, LinkMoved, PageChanged)


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


def changes_by_snapshot(events: Iterable[Event]) -> dict[int | None, dict[str, FieldChange]]:
    """The field changes ``changed``/``renamed`` events stored, by the snapshot that made the version."""
    found: dict[int | None, dict[str, FieldChange]] = {}
    for event in events:
        data = read_payload(event.kind, event.payload)
        if isinstance(data, ChangedFields):
            found[event.snapshot_id] = shown_changes(data.fields)
    return found


def _summary(kind: str, data: Payload | Unknown, source_title: str, t: Labels) -> str:
    label = t.kind_label(kind)
    if isinstance(data, Renamed):
        # Once, as published: the name column's change (left out of the fields) when it has one.
        shown = data.fields.get(name_column_of(data) or "")
        old, new = (shown.old, shown.new) if shown else (data.old_name, data.new_name)
        return f"{label}: " + t.format("renamed_to", old=old, new=new)
    if isinstance(data, EditionChanged):
        return f"{label}: " + t.format("renamed_to", old=data.old_edition or "–", new=data.new_edition or "–")
    if isinstance(data, ColumnRenamed):
        return f"{label} ({source_title}): " + t.format("renamed_to", old=data.old_column, new=data.new_column)
    if isinstance(data, MeasurePayload):
        return f"{label}: {data.name}"
    if isinstance(data, _LINK_PAYLOADS):
        return f"{label}: {data.url}"
    subject = (data.title or data.url) if isinstance(data, ListAdded) else ""
    subject = subject or source_title
    return f"{label}: {subject}" if subject else label


def _details(data: Payload | Unknown, t: Labels, tz: tzinfo) -> list[str]:
    # Changed fields are not named here: every reader shows them with old → new (EventView.fields).
    lines: list[str] = []
    if isinstance(data, Expired) and data.end_date:
        lines.append(f"{t.end_date}: {data.end_date}")
    if isinstance(data, LinkDead):
        status = f" (HTTP {data.http_status})" if data.http_status else ""
        lines.append(f"{t.outcome}: {t.outcome_label(data.outcome)}{status}")
    since = data.since if isinstance(data, (LinkDead, SourceFailed)) else None
    if since:
        lines.append(f"{t.since}: {_moment(since, tz)}")
    if isinstance(data, LinkMoved) and data.final_url:
        lines.append(t.format("moved_to", url=data.final_url))
    if isinstance(data, PageChanged) and data.summary:
        lines.append(f"{t.what}: {data.summary}")
    if isinstance(data, (SourceFailed, SourceSuspect)) and data.error:
        lines.append(f"{t.error}: {t.message(data.error)}")
    if isinstance(data, _LINK_PAYLOADS):
        lines.extend(_cited_by(data.measures, t))
    if isinstance(data, Rekeyed):
        lines.extend(f"{label}: {value}" for label, value in rekey_facts(data, t.language))
    return lines


def _cited_by(measures: tuple[CitingMeasure, ...], t: Labels) -> list[str]:
    names = [m.name for m in measures if m.name]
    return [f"{t.cited_by}: " + " / ".join(names[:10]) + (" …" if len(names) > 10 else "")] if names else []


def _url(data: Payload | Unknown) -> str | None:
    return (data.url or None) if isinstance(data, (*_LINK_PAYLOADS, ListAdded)) else None


def event_view(event: Event, source_titles: Mapping[str, str], t: Labels, tz: tzinfo) -> EventView:
    payload = event.payload if isinstance(event.payload, dict) else {}
    data = read_payload(event.kind, payload)
    source_title = source_titles.get(event.source_id or "", "")
    fields = list(shown_changes(data.fields).values()) if isinstance(data, ChangedFields) else []
    if isinstance(data, Renamed):
        fields = [f for f in fields if f.column != name_column_of(data)]
    return EventView(
        id=event.id, kind=event.kind, kind_label=t.kind_label(event.kind), created_at=event.created_at,
        source_id=event.source_id, source_title=source_title or None, measure_id=event.measure_id, link_id=event.link_id,
        summary=_summary(event.kind, data, source_title, t), details=_details(data, t, tz),
        fields=fields, url=_url(data), page=event_page(event), payload=payload,
    )
