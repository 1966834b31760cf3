"""Build a digest: one notifier's events, grouped by source then kind, counts before details.

:func:`build_digest` is pure: events and the clock in, a frozen :class:`Digest` out, ready
for any template. It decides everything a reader sees except layout: labels in the
notifier's language, times in Japan time, old → new for short fields and a word diff for
long ones, and links only where they lead somewhere (``base_url`` configured, http(s) only:
a URL taken from a published list must never become a ``javascript:`` link).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from urllib.parse import quote, urlsplit

from monitor.errors import ConfigError

from monitor.events import (KINDS, Added, ChangedFields, CitingMeasure, ColumnRenamed, EditionChanged, Ended, EventView, Expired, LinkDead, LinkMoved,
                            LinkRecovered, ListAdded, ListRemoved, MeasurePayload, PageChanged, Payload, Rekeyed, Renamed, SourceFailed,
                            SourceSuspect, Unknown)
from monitor.labels import Language, kind_label, outcome_label, rekey_facts, repair_label
from monitor.messages import localized, name_column_of
from monitor.textdiff import DiffRun, word_diff
from notifiers.labels import check_language, ending_title, fact_label, ui_labels
from store.ending import Ending, department_of
from store.link_repairs import Repair
from store.siblings import Sibling

__all__ = [
    "ALSO_IN_KINDS",
    "JST",
    "LONG_TEXT",
    "Count",
    "Digest",
    "EndingSoon",
    "EndingSection",
    "Entry",
    "Fact",
    "FieldChange",
    "KindGroup",
    "MeasureRef",
    "SourceGroup",
    "build_digest",
    "ending_range",
    "idempotency_key",
]

# Japan has no daylight saving time, so a fixed offset is exact and needs no tz database.
JST = timezone(timedelta(hours=9), "JST")
# Texts longer than this are shown as a word diff rather than in full, twice.
LONG_TEXT = 80
# The measure events whose entry names the same measure in other lists (the ended one's page does).
ALSO_IN_KINDS = frozenset({"added", "changed", "renamed", "reappeared"})
# A new measure's field values are cut here; the whole text is one click away.
_FIELD_PREVIEW = 300


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One column's old and new value; ``diff`` is set when either is a long text."""

    column: str
    old: str
    new: str
    diff: tuple[DiffRun, ...] | None = None


@dataclass(frozen=True, slots=True)
class MeasureRef:
    id: int | None
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One event as a reader sees it: a title (measure name or URL), facts, changes, measures."""

    event_id: int
    kind: str
    title: str
    url: str | None
    facts: tuple[Fact, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    measures: tuple[MeasureRef, ...] = ()


@dataclass(frozen=True, slots=True)
class KindGroup:
    kind: str
    label: str
    entries: tuple[Entry, ...]

    @property
    def count(self) -> int:
        return len(self.entries)


@dataclass(frozen=True, slots=True)
class SourceGroup:
    """The events of one list; ``id`` is None for link events shared by several lists."""

    id: str | None
    title: str
    url: str | None
    kinds: tuple[KindGroup, ...]

    @property
    def count(self) -> int:
        return sum(group.count for group in self.kinds)

    def count_of(self, kind: str) -> int:
        return sum(group.count for group in self.kinds if group.kind == kind)


@dataclass(frozen=True, slots=True)
class Count:
    kind: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class EndingSoon:
    """One measure of the notifier's lists whose end date is near."""

    measure_id: int
    name: str
    url: str | None
    end_date: date
    source_id: str
    source_title: str
    department: str


@dataclass(frozen=True, slots=True)
class EndingSection:
    """「{days}日以内に終了予定」: measures ending on ``first`` … ``last``, soonest first."""

    days: int
    title: str
    first: date
    last: date
    items: tuple[EndingSoon, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    notifier_id: str
    language: str
    generated_at: datetime
    generated_at_text: str
    event_ids: tuple[int, ...]
    counts: tuple[Count, ...]
    sources: tuple[SourceGroup, ...]
    labels: Mapping[str, str]
    idempotency_key: str
    all_quiet: bool = False
    base_url: str | None = None
    # Set when the notifier has ``ending_within_days``; never a reason to send on its own.
    ending: EndingSection | None = None

    @property
    def total(self) -> int:
        return len(self.event_ids)

    @property
    def is_empty(self) -> bool:
        return not self.event_ids

    @property
    def list_title(self) -> str | None:
        """The list's title when the whole digest is about one list; None for several, or none."""
        return self.sources[0].title if len(self.sources) == 1 and self.sources[0].id is not None else None

    @property
    def subject_list(self) -> str:
        """How the subject names that one list: 「title」 in Japanese, ``title:`` in English; else nothing."""
        title = self.list_title
        if title is None:
            return ""
        return f"「{title}」" if self.language == "ja" else f"{title}:"

    @property
    def should_send(self) -> bool:
        """Nothing to say, nothing sent, unless the notifier asked for an all-quiet message."""
        return bool(self.event_ids) or self.all_quiet


def idempotency_key(notifier_id: str, event_ids: Iterable[int], *, now: datetime) -> str:
    """A stable key for one digest: the same events for the same notifier give the same key.

    An all-quiet digest has no events, so its key is made unique by the time instead.
    """
    ids = sorted(set(event_ids))
    basis = ",".join(map(str, ids)) if ids else f"quiet@{now.isoformat()}"
    return hashlib.sha256(f"{notifier_id}\n{basis}".encode()).hexdigest()[:32]


def build_digest(
    notifier_id: str,
    events: Sequence[EventView],
    *,
    now: datetime,
    language: str = "ja",
    base_url: str | None = None,
    all_quiet: bool = False,
    tz: tzinfo = JST,
    ending_days: int | None = None,
    ending: Iterable[Ending] = (),
    repairs: Mapping[int, Sequence[Repair]] | None = None,
    siblings: Mapping[int, Sequence[Sibling]] | None = None,
) -> Digest:
    """Group ``events`` by source then kind (in :data:`KINDS` order) and describe each one.

    ``ending_days``: add the 「{N}日以内に終了予定」 section made of ``ending`` (the measures
    of :func:`ending_range`, read by the caller); None or 0 leaves it out. ``repairs``: the
    stored repair suggestions by link id; a dead link's entry names its best one (「候補」).
    ``siblings``: by measure id, the same measure in other lists (store.siblings); an added,
    changed or renamed measure's entry names them (「他の一覧にも掲載」).
    """
    base = _base(base_url)
    ctx = _Context(check_language(language), base, tz, repairs or {}, siblings or {})
    ordered = sorted(events, key=lambda event: event.id)
    sources = _group(ordered, ctx)
    return Digest(
        notifier_id=notifier_id,
        language=language,
        generated_at=now,
        generated_at_text=ctx.when(now),
        event_ids=tuple(event.id for event in ordered),
        counts=_counts(ordered, ctx.language),
        sources=sources,
        labels=ui_labels(language),
        idempotency_key=idempotency_key(notifier_id, (e.id for e in ordered), now=now),
        all_quiet=all_quiet,
        base_url=base,
        ending=_ending_section(ending_days, ending, now, ctx) if ending_days else None,
    )


def ending_range(now: datetime, days: int, tz: tzinfo = JST) -> tuple[date, date]:
    """The end dates a digest made at ``now`` lists: its own day (in ``tz``) through ``days`` later."""
    day = now.astimezone(tz).date()
    return day, day + timedelta(days=days)


def _ending_section(days: int, endings: Iterable[Ending], now: datetime, ctx: _Context) -> EndingSection:
    first, last = ending_range(now, days, ctx.tz)
    chosen = sorted((e for e in endings if first <= e.end_date <= last), key=lambda e: (e.end_date, e.source_id, e.measure_id))
    items = tuple(EndingSoon(e.measure_id, e.name, ctx.view("measures", e.measure_id), e.end_date, e.source_id, e.source_title,
                             department_of(e.fields)) for e in chosen)
    return EndingSection(days, ending_title(days, ctx.language), first, last, items)


@dataclass(frozen=True, slots=True)
class _Context:
    language: Language
    base_url: str | None
    tz: tzinfo
    repairs: Mapping[int, Sequence[Repair]]
    siblings: Mapping[int, Sequence[Sibling]]

    def view(self, *parts: object) -> str | None:
        """A link into the web view, or None when there is no web view to link to."""
        if self.base_url is None or any(part is None for part in parts):
            return None
        return self.base_url + "/" + "/".join(quote(str(part), safe="") for part in parts)

    def fact(self, name: str, value: object, url: str | None = None) -> Fact:
        return Fact(fact_label(name, self.language), _text(value), url)

    def when(self, value: object) -> str:
        return _format_time(value, self.tz)


def _base(base_url: str | None) -> str | None:
    if not base_url:
        return None
    if _web_url(base_url) is None:
        raise ConfigError(f"base_url must be an http:// or https:// URL, not {base_url!r}")
    return base_url.rstrip("/")


def _web_url(url: object) -> str | None:
    """``url`` when it is a web address a reader can click, else None (``javascript:``, junk)."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _format_time(value: object, tz: tzinfo) -> str:
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value  # shown as given rather than dropped
    if not isinstance(moment, datetime):
        return _text(value)
    if moment.tzinfo is None:  # the store writes UTC
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} ({local.tzname()})"


def _counts(events: Sequence[EventView], language: Language) -> tuple[Count, ...]:
    found = {event.kind: 0 for event in events}
    for event in events:
        found[event.kind] += 1
    return tuple(Count(kind, kind_label(kind, language), found[kind]) for kind in _kind_order(found))


def _kind_order(kinds: Iterable[str]) -> list[str]:
    rank: dict[str, int] = {kind: index for index, kind in enumerate(KINDS)}
    return sorted(set(kinds), key=lambda kind: (rank.get(kind, len(KINDS)), kind))


def _group(events: Sequence[EventView], ctx: _Context) -> tuple[SourceGroup, ...]:
    titles = {e.source_id: e.source_title for e in events if e.source_id and e.source_title}
    by_source: dict[str | None, list[EventView]] = {}
    for event in events:
        by_source.setdefault(_source_of(event), []).append(event)
    # Lists in the order their first event happened; events spanning several lists go last.
    order = sorted(by_source, key=lambda source: source is None)
    return tuple(_source_group(source, by_source[source], titles, ctx) for source in order)


def _source_of(event: EventView) -> str | None:
    """A link event belongs to a list when every measure citing it comes from that list."""
    if event.source_id:
        return event.source_id
    sources = {m.source_id for m in _citing(event.data)}
    return sources.pop() if len(sources) == 1 else None


def _citing(data: Payload | Unknown) -> tuple[CitingMeasure, ...]:
    return data.measures if isinstance(data, (LinkDead, LinkRecovered, LinkMoved, PageChanged)) else ()


def _source_group(source: str | None, events: list[EventView], titles: dict[str, str], ctx: _Context) -> SourceGroup:
    by_kind: dict[str, list[Entry]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(_entry(event, ctx))
    kinds = tuple(KindGroup(k, kind_label(k, ctx.language), tuple(by_kind[k])) for k in _kind_order(by_kind))
    if source is None:
        return SourceGroup(None, ui_labels(ctx.language)["other_sources"], None, kinds)
    return SourceGroup(source, titles.get(source, source), ctx.view("sources", source), kinds)


def _entry(event: EventView, ctx: _Context) -> Entry:
    data = event.data
    if isinstance(data, MeasurePayload):
        return _describe_measure(event, data, ctx)
    if isinstance(data, (LinkDead, LinkRecovered, LinkMoved, PageChanged)):
        return _describe_link(event, data, ctx)
    if isinstance(data, (ListAdded, ListRemoved)):
        # A list found on (or gone from) an index page: name it and where it is published.
        return Entry(event.id, event.kind, data.title or data.list_id, _web_url(data.url))
    if isinstance(data, Unknown):
        title = _text(data.raw.get("name") or data.raw.get("url") or event.source_title or event.kind)
        return Entry(event.id, event.kind, title, ctx.view("measures", event.measure_id))
    return _describe_source(event, data, ctx)


def _describe_measure(event: EventView, data: MeasurePayload, ctx: _Context) -> Entry:
    facts: list[Fact] = []
    changes: list[FieldChange] = []
    name = data.name
    if isinstance(data, Added):
        facts = [Fact(column, _preview(value)) for column, value in data.fields.items()]
    elif isinstance(data, Ended):
        facts = _reach(data.fields)
    elif isinstance(data, Expired):
        facts = [ctx.fact("end_date", data.end_date)]
    elif isinstance(data, Renamed):
        # Once: the name column as published says it, the normalised pair only when none does.
        if name_column_of(data) is None:
            changes = [_change(fact_label("name", ctx.language), data.old_name, data.new_name)]
        name = data.new_name
    if isinstance(data, ChangedFields):
        changes += [_change(column, change.old, change.new) for column, change in data.fields.items()]
    if event.kind in ALSO_IN_KINDS:
        facts += [_also_in(s, ctx) for s in ctx.siblings.get(event.measure_id or 0, ())]
    return Entry(event.id, event.kind, name or data.key, ctx.view("measures", event.measure_id), tuple(facts), tuple(changes))


def _describe_link(event: EventView, data: LinkDead | LinkRecovered | LinkMoved | PageChanged, ctx: _Context) -> Entry:
    facts: list[Fact] = []
    if isinstance(data, LinkMoved):
        facts.append(ctx.fact("final_url", data.final_url, _web_url(data.final_url)))
    if isinstance(data, (LinkDead, LinkRecovered)) and data.outcome:
        facts.append(ctx.fact("outcome", outcome_label(data.outcome, ctx.language)))
    if not isinstance(data, PageChanged) and data.http_status:
        facts.append(ctx.fact("http_status", data.http_status))
    if isinstance(data, LinkDead) and data.since:
        facts.append(ctx.fact("since", ctx.when(data.since)))
    if isinstance(data, LinkDead) and ctx.repairs.get(event.link_id or 0):
        facts.append(_suggestion(ctx.repairs[event.link_id or 0][0], event.link_id, ctx))
    if isinstance(data, LinkRecovered) and data.dead_since:
        facts.append(ctx.fact("dead_since", ctx.when(data.dead_since)))
    if isinstance(data, PageChanged) and data.summary:
        facts.append(ctx.fact("summary", data.summary))
    # A dead URL leads nowhere: link our page about it instead; a live one may be clicked.
    url = ctx.view("links", event.link_id) if isinstance(data, LinkDead) else _web_url(data.url)
    return Entry(event.id, event.kind, data.url, url, tuple(facts), (), _measure_refs(data.measures, ctx))


def _also_in(other: Sibling, ctx: _Context) -> Fact:
    """「他の一覧にも掲載: 多摩のまちづくり 戦略2」, with its name there when that list renamed it."""
    where = f"{other.source_title}「{other.name}」" if other.renamed else other.source_title
    return ctx.fact("also_in", where, ctx.view("measures", other.measure_id))


def _suggestion(best: Repair, link_id: int | None, ctx: _Context) -> Fact:
    """「候補: URL (why)」; a stored copy is shown by the web view, so it links there."""
    why = repair_label(best.reason, ctx.language)
    if best.reason == "snapshot":
        return ctx.fact("suggestion", why, ctx.view("links", link_id, "snapshot"))
    return ctx.fact("suggestion", f"{best.url} ({why})", _web_url(best.url))


def _describe_source(event: EventView, data: Payload, ctx: _Context) -> Entry:
    facts: list[Fact] = []
    changes: tuple[FieldChange, ...] = ()
    if isinstance(data, (SourceFailed, SourceSuspect)) and data.error:
        facts.append(ctx.fact("error", localized(data.error, ctx.language)))
    if isinstance(data, SourceFailed) and data.since:
        facts.append(ctx.fact("since", ctx.when(data.since)))
    if isinstance(data, EditionChanged):
        changes = (_change(fact_label("edition", ctx.language), data.old_edition, data.new_edition),)
    if isinstance(data, ColumnRenamed):
        changes = (_change(fact_label("column", ctx.language), data.old_column, data.new_column),)
    if isinstance(data, Rekeyed):
        facts += [Fact(label, value) for label, value in rekey_facts(data, ctx.language)]
    title = event.source_title or event.source_id or ""
    return Entry(event.id, event.kind, title, ctx.view("sources", event.source_id), tuple(facts), changes)


def _measure_refs(measures: tuple[CitingMeasure, ...], ctx: _Context) -> tuple[MeasureRef, ...]:
    return tuple(MeasureRef(m.id, m.name, ctx.view("measures", m.id)) for m in measures)


def _change(column: str, old: str | None, new: str | None) -> FieldChange:
    old_text, new_text = old or "", new or ""
    long = max(len(old_text), len(new_text)) > LONG_TEXT
    return FieldChange(column, old_text, new_text, word_diff(old_text, new_text) if long else None)


# An ended measure keeps, of its last version, whom to ask and where it was published.
_REACH_COLUMNS = ("担当", "所管", "部署", "連絡先", "電話", "問合", "TEL", "URL", "ホームページ", "department", "contact", "phone")


def _reach(fields: dict[str, str]) -> list[Fact]:
    return [Fact(column, _preview(value), _web_url(value)) for column, value in fields.items()
            if _web_url(value) or any(word.lower() in column.lower() for word in _REACH_COLUMNS)]


def _preview(value: object) -> str:
    text = _text(value)
    return text if len(text) <= _FIELD_PREVIEW else text[:_FIELD_PREVIEW] + "…"

