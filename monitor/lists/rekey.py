"""Re-key a source (``sources rekey ID``): its stored measures get the keys and names the
current ``key_columns`` / ``name_column`` give them, and keep their ids and history.

A wrong first guess at the key stays for good otherwise: the next runs compare the same
bytes and say "unchanged", and a changed row would be matched under the old key. Each
measure is paired with its new key by its own content (its latest version's fields), so
nothing is ended or added: the ids, versions, events and cited links all stay. Listed
measures also get the content digest of the current ``ignore_columns``, read from the last
good snapshot parsed with the current config, so the next run of the same list finds every
row unchanged. A row stored as the list was parsed then but not found in today's parse
(the config changed the parse itself: columns, options) is counted as ``unpaired``: the
next run would report it as changed or added/ended, which is what ``sources rebaseline``
is for. One ``rekeyed`` event notes it; no change of the list is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from store.source_admin import last_good_body, latest_versions

from monitor.config import Config, SourceConfig
from monitor.errors import ConfigError, ParseError
from monitor.events import Rekeyed
from monitor.lists.identity import ignored_columns, make_entry, stored_published
from monitor.lists.parsers import Document
from monitor.lists.pipeline import parse_source
from monitor.lists.records import ParsedList, Record
from monitor.lists.versioning import source_event

__all__ = ["RekeyResult", "rekey_source"]


@dataclass(frozen=True, slots=True)
class RekeyResult:
    source_id: str
    measures: int
    keys_changed: int
    names_changed: int
    unpaired: int  # listed measures not found, as stored, in the last good snapshot parsed now
    reparsed: bool  # whether a stored snapshot could be parsed with the current config


def rekey_source(session: Session, config: Config, source: SourceConfig, now: datetime) -> RekeyResult:
    """Give every measure of ``source`` its key and name under the current config, in place."""
    if source.is_index:
        raise ConfigError(f"{source.id} is an index: the lists found on it hold the measures; rekey each of them (their ids: `sesaku-monitor sources`)")
    measures = latest_versions(session, source.id)
    if not measures:
        raise ConfigError(f"{source.id} has no stored measures to rekey (it has had no good run yet; `sesaku-monitor try {source.id}` shows how it parses)")
    parsed = _parse_last_good(session, config, source)
    listed = [version for _, version in measures if version.valid_to_snapshot_id is None]
    if parsed is not None:
        ignore = ignored_columns(source, parsed.columns, parsed.records)
        published = {record.published for record in parsed.records}
        header = tuple(parsed.columns)
        unpaired = sum(1 for version in listed if stored_published(version.fields, header) not in published)
    else:
        columns = list(listed[0].fields) if listed else []
        ignore = ignored_columns(source, columns, [Record(dict(v.fields)) for v in listed])
        unpaired = 0
    keys_changed = names_changed = 0
    for measure, version in measures:
        entry = make_entry(version.fields, source, ignore)
        keys_changed += entry.key != measure.key
        names_changed += entry.name != measure.name
        measure.key, measure.name = entry.key, entry.name
        if version.valid_to_snapshot_id is None:
            version.name, version.content_hash = entry.name, entry.digest
    result = RekeyResult(source.id, len(measures), keys_changed, names_changed, unpaired, parsed is not None)
    if keys_changed or names_changed:
        source_event(session, source.id, None, now, Rekeyed(len(measures), keys_changed, names_changed, " + ".join(source.key_columns), source.name_column, unpaired))
    return result


def _parse_last_good(session: Session, config: Config, source: SourceConfig) -> ParsedList | None:
    found = last_good_body(session, source.id)
    if found is None:
        return None
    snapshot, body = found
    document = Document(body=body, url=source.url, content_type=snapshot.content_type or "", max_bytes=config.http.max_bytes, encoding=source.encoding)
    try:
        parsed = parse_source(document, config, source)
    except ParseError:
        return None
    return parsed if isinstance(parsed, ParsedList) else None
