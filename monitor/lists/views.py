"""Read models for the command line: history of a measure, diff between two snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from store.models import Snapshot
from store.queries import measure_history, versions_at_snapshot

from monitor.config import SourceConfig
from monitor.lists.diff import field_changes
from monitor.errors import ConfigError
from monitor.lists.identity import ignored_columns
from monitor.lists.records import Record, normalize_cell
from monitor.report import MeasureChange, SourceReport

__all__ = ["history_of", "diff_snapshots", "MeasureHistory"]


@dataclass(slots=True)
class MeasureHistory:
    measure_id: int
    source_id: str
    key: str
    name: str
    first_seen_at: str
    ended_at: str | None
    versions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure_id": self.measure_id, "source_id": self.source_id, "key": self.key, "name": self.name,
            "first_seen_at": self.first_seen_at, "ended_at": self.ended_at, "versions": self.versions,
        }


def history_of(session: Session, measure_id: int) -> MeasureHistory:
    found = measure_history(session, measure_id)
    if found is None:
        raise ConfigError(f"no measure with id {measure_id}")
    measure, versions = found
    history = MeasureHistory(
        measure.id, measure.source_id, measure.key, measure.name, measure.first_seen_at.isoformat(),
        measure.ended_at.isoformat() if measure.ended_at else None,
    )
    previous: dict[str, str] | None = None
    for version in versions:
        history.versions.append({
            "version_id": version.id,
            "valid_from": version.valid_from.isoformat(),
            "valid_to": version.valid_to.isoformat() if version.valid_to else None,
            "snapshot_from": version.valid_from_snapshot_id,
            "snapshot_to": version.valid_to_snapshot_id,
            "end_date": version.end_date.isoformat() if version.end_date else None,
            "fields": version.fields,
            "changes": field_changes(previous, version.fields) if previous is not None else {},
        })
        previous = version.fields
    return history


def _snapshot(session: Session, source_id: str, snapshot_id: int) -> Snapshot:
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None or snapshot.source_id != source_id:
        raise ConfigError(f"no snapshot {snapshot_id} of source {source_id!r} (see `sesaku-monitor snapshots {source_id}`)")
    return snapshot


def diff_snapshots(session: Session, source: SourceConfig, from_id: int, to_id: int) -> SourceReport:
    """The changes between the list as it stood at two snapshots; identity is already known."""
    _snapshot(session, source.id, from_id)
    _snapshot(session, source.id, to_id)
    old = {m.id: (m, v) for m, v in versions_at_snapshot(session, source.id, from_id)}
    new = {m.id: (m, v) for m, v in versions_at_snapshot(session, source.id, to_id)}
    columns = list(next(iter(new.values()))[1].fields) if new else []
    ignore = ignored_columns(source, columns, [Record(v.fields) for _, v in new.values()])
    report = SourceReport(id=source.id, status="diff", records=len(new), snapshot_id=to_id)
    for measure_id, (measure, version) in new.items():
        if measure_id not in old:
            report.added.append(MeasureChange(measure_id, measure.key, version.name))
            continue
        before = old[measure_id][1]
        if before.id == version.id:
            continue
        changes = field_changes(before.fields, version.fields, ignore)
        if not changes:
            continue
        if normalize_cell(before.name) != normalize_cell(version.name):
            report.renamed.append(MeasureChange(measure_id, measure.key, version.name, fields=changes, old_name=before.name, new_name=version.name))
        else:
            report.changed.append(MeasureChange(measure_id, measure.key, version.name, fields=changes))
    for measure_id, (measure, version) in old.items():
        if measure_id not in new:
            report.ended.append(MeasureChange(measure_id, measure.key, version.name))
    return report
