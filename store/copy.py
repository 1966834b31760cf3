"""Copy a whole history from one database to another (SQLite → PostgreSQL, or back).

Every table of the schema but ``run_locks`` (leases of processes that belong to the old
place) is copied in foreign-key order, in batches read by primary key (memory stays
bounded whatever the size), ids kept. Rows are inserted with ``ON CONFLICT DO NOTHING``, so
a copy that was interrupted, or is run twice, goes on where the rows are missing; a row that
is already in the target *with other content* stops the copy with an error that names it,
never overwritten. Then PostgreSQL sequences are moved past the largest id, and each
table's rows are counted and hashed on both sides.

Deliveries and notifier cursors come along, so the outbox knows what was sent. An event's
``xid`` names a transaction of the old server: every copied event gets 0 (committed, before
every event written in the new place), and each cursor becomes ``(0, k)``, k the id just below
the first event it had not passed yet. Nothing is skipped; an event delivered while an
older one was still behind it (writers running during the copy) may go out once more.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, Table, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from store.batches import in_batches
from store.database import first_line
from store.errors import StoreError
from store.models import Base

__all__ = ["CopyError", "TableCopy", "copy_database", "copied_tables", "table_digest"]

# Leases name live processes of the old place; the new place starts without any.
NOT_COPIED = frozenset({"run_locks"})
Row = dict[str, Any]
Progress = Callable[["TableCopy"], None]


class CopyError(StoreError):
    """Raised when the target holds a row that differs from the source's, or counts disagree after."""


@dataclass(slots=True)
class TableCopy:
    """What happened to one table: rows read, inserted, found already there; and the check after."""

    table: str
    read: int = 0
    inserted: int = 0
    present: int = 0
    source_digest: str = ""
    target_digest: str = ""
    target_rows: int = 0

    @property
    def verified(self) -> bool:
        return self.read == self.target_rows and self.source_digest == self.target_digest


def copied_tables() -> list[Table]:
    """The tables to copy, parents before children."""
    return [table for table in Base.metadata.sorted_tables if table.name not in NOT_COPIED]


def _plain(value: Any) -> Any:
    """A value as the same JSON text on either backend (the hash's input)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    return value


def row_hash(row: Row) -> str:
    text_ = json.dumps({name: _plain(value) for name, value in row.items()}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


def _key(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns)


def _batches(connection: Connection, table: Table, size: int) -> Iterator[list[Row]]:
    """Every row, ``size`` at a time, read by primary key (keyset: no OFFSET, no full load)."""
    if table.name == "sources":
        # Few rows (one per list), and a self-reference: parents (no parent) go first.
        query = select(table).order_by(table.c.parent_id.is_not(None), *_key(table))
        yield from in_batches([dict(row._mapping) for row in connection.execute(query)], size)
        return
    key = _key(table)
    last: tuple[Any, ...] | None = None
    portable = _PORTABLE.get(table.name)
    while True:
        query = select(table).order_by(*key).limit(size)
        if last is not None:
            query = query.where(tuple_(*key) > tuple_(*last)) if len(key) > 1 else query.where(key[0] > last[0])
        rows = [dict(row._mapping) for row in connection.execute(query)]
        if not rows:
            return
        yield [portable(connection, row) for row in rows] if portable else rows
        last = tuple(rows[-1][column.name] for column in key)


def _event_row(connection: Connection, row: Row) -> Row:
    return {**row, "xid": 0}


def _cursor_row(connection: Connection, row: Row) -> Row:
    """The cursor's (xid, id) in an order by id alone: just below the first event it has not passed."""
    if not row["last_event_xid"]:
        return row
    events = Base.metadata.tables["events"]
    after = tuple_(events.c.xid, events.c.id) > tuple_(row["last_event_xid"], row["last_event_id"])
    first_left = connection.scalar(select(func.min(events.c.id)).where(after))
    last_id = first_left - 1 if first_left is not None else connection.scalar(select(func.max(events.c.id)))
    return {**row, "last_event_xid": 0, "last_event_id": last_id or 0}


# Values that only mean something in the database they are read from, as they are copied.
_PORTABLE: dict[str, Callable[[Connection, Row], Row]] = {"events": _event_row, "notifier_cursors": _cursor_row}


def _insert(connection: Connection, table: Table, rows: Sequence[Row]) -> set[tuple[Any, ...]]:
    """Insert what is missing; the keys of the rows that were new."""
    dialect = connection.dialect.name
    key = _key(table)
    statement = (pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)).on_conflict_do_nothing().returning(*key)
    result = connection.execute(statement, list(rows))
    return {tuple(row) for row in result}


# Columns the target's own triggers keep as rows come in (migration 0017: a source's newest
# snapshot): a copy interrupted half-way through ``snapshots`` left them where that copy was,
# so a row already there is compared without them. The check after the copy hashes them too.
_DERIVED = {"sources": frozenset({"newest_snapshot_id"})}


def _compared(table: Table, row: Row) -> Row:
    derived = _DERIVED.get(table.name, frozenset())
    return {name: value for name, value in row.items() if name not in derived}


def _compare_present(connection: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Rows that were not inserted must be in the target already, with the same content."""
    key = _key(table)
    wanted = {tuple(row[column.name] for column in key): row for row in rows}
    condition = tuple_(*key).in_(list(wanted)) if len(key) > 1 else key[0].in_([k[0] for k in wanted])
    found = {tuple(row._mapping[column.name] for column in key): dict(row._mapping) for row in connection.execute(select(table).where(condition))}
    for ident, row in wanted.items():
        there = found.get(ident)
        where = ", ".join(f"{column.name}={value!r}" for column, value in zip(key, ident))
        if there is None:
            raise CopyError(f"{table.name} row {where} could not be copied: the target has another row with the same unique value")
        there, row = _compared(table, there), _compared(table, row)
        if row_hash(there) != row_hash(row):
            columns = sorted(name for name in row if _plain(row[name]) != _plain(there.get(name)))
            raise CopyError(
                f"{table.name} row {where} is already in the target with other content ({', '.join(columns)}): "
                "refusing to overwrite; copy into an empty database"
            )


def _batch_size(table: Table, size: int) -> int:
    # Blobs hold whole documents (up to http.max_bytes each): fewer per batch.
    return max(1, size // 50) if table.name == "blobs" else size


def _copy_table(source: Engine, target: Engine, table: Table, size: int) -> TableCopy:
    result = TableCopy(table.name)
    with source.connect() as reading:
        for rows in _batches(reading, table, _batch_size(table, size)):
            with target.begin() as writing:
                new = _insert(writing, table, rows)
                if len(new) < len(rows):
                    key = [column.name for column in _key(table)]
                    _compare_present(writing, table, [row for row in rows if tuple(row[name] for name in key) not in new])
            result.read += len(rows)
            result.inserted += len(new)
            result.present += len(rows) - len(new)
    return result


def table_digest(engine: Engine, table: Table, size: int = 1000) -> tuple[int, str]:
    """Rows and one sha256 over every row's hash, in primary-key order."""
    digest = hashlib.sha256()
    count = 0
    with engine.connect() as connection:
        for rows in _batches(connection, table, _batch_size(table, size)):
            for row in rows:
                digest.update(row_hash(row).encode("ascii"))
                count += 1
    return count, digest.hexdigest()


def _reset_sequences(target: Engine, tables: Sequence[Table]) -> None:
    """Move each id sequence past the largest copied id, so new rows do not collide."""
    if target.dialect.name != "postgresql":
        return  # SQLite takes max(rowid) + 1 by itself
    with target.begin() as connection:
        for table in tables:
            key = _key(table)
            if len(key) != 1 or not isinstance(key[0].type, Integer) or key[0].autoincrement is False:
                continue
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), coalesce(max({key[0].name}), 0) + 1, false) FROM {table.name}"
            ), {"table": table.name, "column": key[0].name})


def copy_database(source: Engine, target: Engine, *, batch_size: int = 500, progress: Progress | None = None) -> list[TableCopy]:
    """Copy every table, reset sequences, verify counts and hashes; raise CopyError if they differ."""
    tables = copied_tables()
    results: list[TableCopy] = []
    try:
        for table in tables:
            result = _copy_table(source, target, table, batch_size)
            results.append(result)
            if progress is not None:
                progress(result)
        _reset_sequences(target, tables)
        for table, result in zip(tables, results):
            _, result.source_digest = table_digest(source, table, batch_size)
            result.target_rows, result.target_digest = table_digest(target, table, batch_size)
    except SQLAlchemyError as exc:
        raise StoreError(f"copy failed: {first_line(exc)}") from exc
    wrong = [result for result in results if not result.verified]
    if wrong:
        raise CopyError("after the copy, these tables differ between source and target: " + ", ".join(
            f"{result.table} ({result.read} rows read, {result.target_rows} in the target)" for result in wrong))
    return results
