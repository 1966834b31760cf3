"""A new version of a list written in bulk: plain rows in, Core statements out.

A 100,000-row baseline built as ORM objects spent most of its time constructing and flushing
them, and SQLite, which cannot promise the order of ``RETURNING``, made each of them an INSERT
of its own. Here ids are taken before the rows are written (:func:`new_ids`), and every table
gets one executemany (or one ``IN`` list per batch). Nothing here loads an ORM object, so none
in the session goes stale.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import lru_cache, partial
from io import BytesIO
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Dialect, Table, bindparam, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Base
from store.search import index_versions
from store.writes_behind import writing_behind

if TYPE_CHECKING:
    import psycopg

__all__ = ["bulk_versions", "close_versions", "end_measures", "insert_rows", "insert_versions", "new_ids", "rename_measures", "reopen_measures", "set_published_digests"]

Row = Mapping[str, Any]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def new_ids(session: Session, table_name: str, count: int) -> list[int]:
    """``count`` unused ids of a table, for rows about to be inserted with them.

    PostgreSQL hands them out from the table's sequence, so concurrent writers never collide:
    the sequence is looked up once (an InitPlan), where ``nextval(pg_get_serial_sequence(…))``
    looked it up again for every id, 10 µs each (1.3 s of a 100,000-row baseline's 270,000 ids);
    and they come back as runs of consecutive ids (one, unless another writer took some
    meanwhile), not a row each: fetching 100,000 rows cost more than taking the ids.
    SQLite has one writer at a time, and the caller's transaction has already written (the
    snapshot row): the ids above the largest one are this transaction's until it ends.
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        runs = session.execute(_TAKE_IDS, {"t": table_name, "n": count})
        return [i for start, length in runs for i in range(start, start + length)]
    table = _table(table_name)
    top = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(top + 1, top + 1 + count))


# Each run's first id and length: ids minus their rank are equal along a run of consecutive ids.
_TAKE_IDS = text(
    "SELECT min(id), count(*) FROM (SELECT id, id - row_number() OVER (ORDER BY id) AS run FROM"
    " (SELECT nextval((SELECT pg_get_serial_sequence(:t, 'id')::regclass)) AS id FROM generate_series(1, :n)) taken) ranked"
    " GROUP BY run ORDER BY 1"
)


def insert_rows(session: Session, table_name: str, rows: Sequence[Row]) -> None:
    """Rows of one table, every one with the same keys, written in bulk: on SQLite INSERTs of
    many rows each, on PostgreSQL one COPY (inside :func:`bulk_versions`, on its writing thread).

    The statement is compiled once per table and columns, and each value goes through its
    column type's bind processor only (store.models.UTCDateTime, JSON) before the driver gets
    it: SQLAlchemy's executemany built every row's parameters anew, a third of a 100,000-row
    baseline's inserts."""
    if not rows:
        return
    connection = session.connection()
    statement, keys, processors = _prepared(connection.dialect, table_name, tuple(rows[0]))
    values = itemgetter(*keys)
    params: list[list[Any]] = [list(values(row)) if len(keys) > 1 else [values(row)] for row in rows]
    for slot, process in enumerate(processors):
        if process is not None:
            _process_column(params, slot, process)
    head = statement[:statement.rindex(" VALUES ")]
    if connection.dialect.name == "sqlite":
        write = partial(_insert_many_per_statement, connection, head, len(keys), params)
    else:
        driver = connection.connection.driver_connection
        assert driver is not None  # a connection in use has one
        write = partial(_copy_rows, driver, connection.dialect, head, _copy_text(session, driver).rows(params))
    behind = session.info.get(_BEHIND)
    if behind is None:
        write()
    else:
        behind.submit(write)


def _copy_text(session: Session, driver: psycopg.Connection[Any]) -> _CopyText:
    """The bulk write's formatter, made at its first insert (the writer has nothing to send yet)."""
    if _BEHIND not in session.info:
        return _CopyText(driver)
    made = session.info.get(_COPY_TEXT)
    if made is None:
        made = session.info[_COPY_TEXT] = _CopyText(driver)
    return made


class _CopyText:
    """Rows in COPY's text format, made by psycopg's own dumpers (as an INSERT's parameters
    would be) where the caller runs: the writer thread then only sends them (store.writes_behind)
    and holds the GIL for none of the 1.5 s a 100,000-row baseline's formatting takes.

    One a bulk write, made before its writer sends anything: psycopg reads the connection's
    settings (its encoding, through libpq) when a copy and its dumpers are made, and a
    connection's libpq state is not to be read while another thread may be using it."""

    def __init__(self, driver: psycopg.Connection[Any]) -> None:
        import psycopg  # PostgreSQL's driver: not loaded by a SQLite process (0.06 s of its start-up)
        from psycopg.copy import FileWriter

        self._buffer = BytesIO()
        self._copy = psycopg.Copy(driver.cursor(), writer=FileWriter(self._buffer))  # sends no statement

    def rows(self, params: list[list[Any]]) -> bytes:
        for row in params:
            self._copy.write_row(row)
        self._buffer.write(self._copy.formatter.end())  # what the formatter holds back for its next 32 KB
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


def _copy_rows(driver: psycopg.Connection[Any], dialect: Dialect, head: str, data: bytes) -> None:
    """PostgreSQL: ``COPY … FROM STDIN`` of rows already in its text format, on the session's
    own connection (so in its transaction). An executemany's INSERTs, even pipelined, cost the
    server a statement per row; and the text format takes psycopg's dumpers as the INSERT did,
    with no column type to name (the binary one needs each column's type given)."""
    import psycopg

    statement = f"COPY {head.removeprefix('INSERT INTO ')} FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(data)
    except psycopg.Error as exc:
        # As SQLAlchemy would have raised it from the INSERT: callers catch its classes (IntegrityError, …).
        raise DBAPIError.instance(statement, None, exc, psycopg.Error, dialect=dialect) from exc


# Rows per SQLite INSERT: its bound parameters stay far below its limit of 32,766.
_ROWS_PER_INSERT = 500


def _insert_many_per_statement(connection: Connection, head: str, width: int, params: list[list[Any]]) -> None:
    """SQLite: ``INSERT … VALUES (…), (…), …`` (``head``: the INSERT up to its VALUES). A
    statement that fires a trigger (the search index's) keeps a statement journal of the pages
    it changes, and one row per statement copied the same index pages into one again for every row."""
    one = "(" + ", ".join("?" * width) + ")"
    for batch in in_batches(params, max(1, min(_ROWS_PER_INSERT, 30_000 // width))):
        connection.exec_driver_sql(f"{head} VALUES {', '.join([one] * len(batch))}", tuple(chain.from_iterable(batch)))


_Processor = Callable[[Any], Any] | None


def _process_column(params: list[Any], slot: Any, process: Callable[[Any], Any]) -> None:
    """One column's values through its bind processor; a value the same as the row before's
    (every row's ``now``) is processed once."""
    last: object = _NOTHING
    done: Any = None
    for row in params:
        value = row[slot]
        if value is not last:
            last, done = value, process(value)
        row[slot] = done


_NOTHING = object()


@lru_cache(maxsize=128)
def _prepared(dialect: Dialect, table_name: str, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...], tuple[_Processor, ...]]:
    """The INSERT of these columns in the dialect's own SQL, its parameters' names in order,
    and each one's bind processor (None where the driver takes the value as it is)."""
    compiled = insert(_table(table_name)).compile(dialect=dialect, column_keys=list(columns))
    keys = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    processors = tuple(compiled.binds[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys)
    return compiled.string, keys, processors


def insert_versions(session: Session, rows: Sequence[Row]) -> None:
    """New measure versions, and their text in the search index (or its backlog).

    On SQLite the index's trigger would make an FTS5 insert of each row, a statement of its
    own after which FTS5 writes out its pending terms: for a 100,000-row baseline that cost
    3 times one ``INSERT … SELECT`` (store.search.index_versions). The row in
    ``measure_search_deferred`` (migration 0013) tells the trigger to leave these rows out;
    it lives only inside this transaction. Inside :func:`bulk_versions` the rows
    wait for its end; else they are indexed here. PostgreSQL's trigger (migration 0018) indexes
    each statement's rows from its transition table.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        insert_rows(session, "measure_versions", rows)
        return
    with bulk_versions(session, len(rows)):  # alone (not inside a list's), its own: indexed at once
        insert_rows(session, "measure_versions", rows)
        session.info[_WAITING].extend(row["id"] for row in rows)


# session.info key: the ids of the versions written inside bulk_versions, not yet indexed.
_WAITING = "store.version_writes.unindexed"
# SQLite's page cache while a list is written, per row written (KiB) and at most: at its 2 MB
# default the indexes' pages were spilled and read again all through a 100,000-row baseline;
# a run that writes a few thousand rows keeps the default, and its memory.
_CACHE_KIB_PER_ROW = 1 / 3
_CACHE_KIB = (2000, 32768)
# A write of this many versions leaves them to the search backlog (migration 0018): indexing a
# 100,000-row baseline's text was 5 of its 13 s on SQLite and ~30 of 40 s on PostgreSQL, work
# the job search:index does after the run (store.search.index_backlog) while a search scans them.
BACKLOG_ROWS = 5000


@contextmanager
def bulk_versions(session: Session, rows: int) -> Iterator[None]:
    """A list's new version written in bulk (``rows``: about how many rows). The versions
    written inside go into the search index at the end, all in one statement (on SQLite FTS5
    then writes its terms out in a few large segments instead of a small one per batch that it
    merges again and again), or, ``rows`` at least :data:`BACKLOG_ROWS`, into its backlog; and
    SQLite's page cache grows with ``rows`` meanwhile. The rows inserted inside are written on
    a thread of their own while the caller makes the next ones (store.writes_behind). An
    exception leaves the versions out (its transaction is rolled back)."""
    if _WAITING in session.info:
        yield
        return
    searching = _postgres_search_later if session.get_bind().dialect.name != "sqlite" else _sqlite_search_at_end
    with searching(session, rows), writing_behind(session.connection()) as behind:
        session.info[_BEHIND] = behind
        try:
            yield
        finally:
            del session.info[_BEHIND]
            session.info.pop(_COPY_TEXT, None)


# session.info keys: the writer of the rows inserted inside bulk_versions, and its formatter.
_BEHIND = "store.version_writes.behind"
_COPY_TEXT = "store.version_writes.copy_text"


@contextmanager
def _sqlite_search_at_end(session: Session, rows: int) -> Iterator[None]:
    """SQLite: the versions written inside are indexed by one statement at the end (or go to
    the backlog), and the page cache grows with ``rows`` meanwhile."""
    connection = session.connection()
    cache = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    low, high = _CACHE_KIB
    connection.exec_driver_sql(f"PRAGMA cache_size={-min(high, max(low, int(rows * _CACHE_KIB_PER_ROW)))}")
    session.execute(text("INSERT INTO measure_search_deferred DEFAULT VALUES"))
    waiting: list[int] = []
    session.info[_WAITING] = waiting
    restore = f"PRAGMA cache_size={int(cache)}"
    try:
        yield
    except BaseException:
        del session.info[_WAITING]
        # The pooled connection outlives the run (a daemon's): its page cache goes back to size,
        # unless the failure left the connection unusable (the pool then discards it).
        with suppress(SQLAlchemyError):
            connection.exec_driver_sql(restore)
        raise
    del session.info[_WAITING]
    if rows >= BACKLOG_ROWS:
        session.execute(text("INSERT INTO search_backlog (version_id) SELECT value FROM json_each(:ids)"), {"ids": json.dumps(waiting)})
    else:
        index_versions(session, waiting)
    session.execute(text("DELETE FROM measure_search_deferred"))
    connection.exec_driver_sql(restore)


@contextmanager
def _postgres_search_later(session: Session, rows: int) -> Iterator[None]:
    """PostgreSQL: the trigger of migration 0018 sends the versions written inside to the backlog
    (a setting of this transaction alone: a rollback or the commit ends it)."""
    later = rows >= BACKLOG_ROWS
    session.info[_WAITING] = []
    setting = text("SELECT set_config('sesaku.search_later', :value, true)")
    try:
        if later:
            session.execute(setting, {"value": "on"})
        yield
        if later:
            session.execute(setting, {"value": "off"})
    finally:
        del session.info[_WAITING]


def set_published_digests(session: Session, digests: Sequence[tuple[int, bytes]]) -> None:
    """(version id, digest): the published digest of versions stored without one (migration 0013)."""
    table = _table("measure_versions")
    if digests:
        statement = update(table).where(table.c.id == bindparam("v_id")).values(published_digest=bindparam("v_digest"))
        session.execute(statement, [{"v_id": i, "v_digest": digest} for i, digest in digests])


def close_versions(session: Session, version_ids: Sequence[int], snapshot_id: int, now: datetime) -> None:
    """The versions stop being current at this snapshot."""
    table = _table("measure_versions")
    for batch in in_batches(list(version_ids), IN_LIST_SIZE):
        session.execute(update(table).where(table.c.id.in_(batch)).values(valid_to=now, valid_to_snapshot_id=snapshot_id))


def end_measures(session: Session, measure_ids: Sequence[int], snapshot_id: int, now: datetime) -> None:
    table = _table("measures")
    for batch in in_batches(list(measure_ids), IN_LIST_SIZE):
        session.execute(update(table).where(table.c.id.in_(batch)).values(ended_at=now, ended_snapshot_id=snapshot_id))


def rename_measures(session: Session, rows: Sequence[tuple[int, str, str]]) -> None:
    """(measure id, key, name): a measure's key and name as its new version has them."""
    table = _table("measures")
    statement = update(table).where(table.c.id == bindparam("m_id")).values(key=bindparam("m_key"), name=bindparam("m_name"))
    if rows:
        session.execute(statement, [{"m_id": i, "m_key": key, "m_name": name} for i, key, name in rows])


def reopen_measures(session: Session, rows: Sequence[tuple[int, str]]) -> None:
    """(measure id, name): ended measures listed again lose their end."""
    table = _table("measures")
    statement = update(table).where(table.c.id == bindparam("m_id")).values(ended_at=None, ended_snapshot_id=None, name=bindparam("m_name"))
    if rows:
        session.execute(statement, [{"m_id": i, "m_name": name} for i, name in rows])
