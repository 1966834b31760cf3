"""Search over the text of every measure version, current and past (the index: migrations 0004, 0016, 0018).

A query is cut at whitespace into terms; a version matches when its text holds every term.
Trigram indexes answer terms of three characters or more; a shorter term (「多摩」 is two)
has no trigram, so it is matched by LIKE: on SQLite alone, when every term is short, that is a
scan of the index's text. Hits come newest version first, which both indexes give in order
without sorting every match.

A big list's versions wait in ``search_backlog`` for the index (migration 0018): a search reads
the index and scans the backlog's versions beside it, so an answer is the same before and after
:func:`index_backlog` has moved them in.
"""

from __future__ import annotations

import json

from sqlalchemy import Column, Integer, MetaData, Table, Text, and_, delete, func, select, text, union
from sqlalchemy.orm import Session

from store.batches import IN_LIST_SIZE, in_batches
from store.models import Measure, MeasureVersion
from store.source_reads import SEARCH_BACKLOG

__all__ = ["TRIGRAM", "BACKLOG_BATCH", "index_backlog", "index_versions", "search_terms", "search_versions"]

TRIGRAM = 3
# Versions moved from the backlog into the index per transaction: a few seconds of the index's
# writes at most, so the lists' runs beside it never wait long for SQLite's one writer.
BACKLOG_BATCH = 5000
# Not in store.models: the trigger of migration 0018 writes it, `db copy` leaves it to the target's.
_POSTGRES_INDEX = Table("measure_search", MetaData(), Column("version_id", Integer, primary_key=True), Column("body", Text))
_ESCAPE = "\\"
# A version's text in SQLite's index: its fields' values decoded from JSON, and its name where
# they do not hold it already. (The trigger of migrations 0004 and 0013 always adds the name; a
# term holds no whitespace, so text that holds the name is found by the same terms without it
# again: 8% fewer trigrams for FTS5 to index in a list whose name is a column.)
_SQLITE_TEXT = ("(SELECT CASE WHEN instr(t, name) > 0 THEN t ELSE coalesce(t || ' ', '') || name END "
                "FROM (SELECT group_concat(value, ' ') AS t FROM json_each(fields)))")


def index_versions(session: Session, version_ids: list[int]) -> None:
    """Put versions the trigger left out (store.version_writes.insert_versions) in SQLite's index,
    in one statement: FTS5 writes out its pending terms after every statement, a segment each
    that it merges again with the others."""
    if version_ids:
        statement = text(f"INSERT INTO measure_search(rowid, body) SELECT id, {_SQLITE_TEXT} FROM measure_versions "
                         "WHERE id IN (SELECT value FROM json_each(:ids))")
        session.execute(statement, {"ids": json.dumps(version_ids)})


def search_terms(query: str) -> list[str]:
    """The distinct terms of ``query``, in the order given, cut at whitespace and at NUL: no stored
    text holds NUL (PostgreSQL refuses it), and FTS5 and psycopg refused a term with one, which
    answered "database unavailable"."""
    return list(dict.fromkeys(query.replace("\x00", " ").split()))


def _like(term: str) -> str:
    escaped = term.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{escaped}%"


def _trigrams(term: str) -> list[str]:
    return list(dict.fromkeys(term[i:i + TRIGRAM] for i in range(len(term) - TRIGRAM + 1)))


def _sqlite_ids(session: Session, terms: list[str], limit: int, offset: int) -> list[int]:
    # The index keeps no positions (migration 0016), so a term's trigrams are found anywhere in a
    # version (each a phrase of one token, implicitly ANDed) and the term itself by LIKE on the
    # indexed text: for a short term, which has no trigram, that LIKE alone.
    trigrams = list(dict.fromkeys(trigram for term in terms for trigram in _trigrams(term)))
    conditions: list[str] = []
    params: dict[str, object] = {"limit": limit, "offset": offset, "first": limit + offset}
    if trigrams:
        conditions.append("measure_search MATCH :match")
        params["match"] = " ".join('"' + trigram.replace('"', '""') + '"' for trigram in trigrams)
    likes = []
    for number, term in enumerate(terms):
        likes.append(f"LIKE :like{number} ESCAPE '\\'")
        params[f"like{number}"] = _like(term)
    indexed = " AND ".join([*conditions, *(f"body {like}" for like in likes)])
    waiting = " AND ".join(f"{_SQLITE_TEXT} {like}" for like in likes)
    query = (f"SELECT id FROM (SELECT rowid AS id FROM measure_search WHERE {indexed} ORDER BY rowid DESC LIMIT :first) "
             f"UNION SELECT id FROM (SELECT id FROM measure_versions WHERE id IN (SELECT version_id FROM search_backlog) AND {waiting} "
             "ORDER BY id DESC LIMIT :first) ORDER BY id DESC LIMIT :limit OFFSET :offset")
    return list(session.scalars(text(query), params))


def _postgres_ids(session: Session, terms: list[str], limit: int, offset: int) -> list[int]:
    # ILIKE on measure_search.body uses its pg_trgm index; the backlog's text is made as the trigger makes it.
    first = limit + offset
    indexed = (select(_POSTGRES_INDEX.c.version_id.label("id"))
               .where(and_(*(_POSTGRES_INDEX.c.body.ilike(_like(term), escape=_ESCAPE) for term in terms)))
               .order_by(_POSTGRES_INDEX.c.version_id.desc()).limit(first))
    waiting_text = func.measure_search_text(MeasureVersion.fields, MeasureVersion.name)
    waiting = (select(MeasureVersion.id.label("id")).join(SEARCH_BACKLOG, SEARCH_BACKLOG.c.version_id == MeasureVersion.id)
               .where(and_(*(waiting_text.ilike(_like(term), escape=_ESCAPE) for term in terms))).order_by(MeasureVersion.id.desc()).limit(first))
    both = union(indexed.subquery().select(), waiting.subquery().select()).subquery()
    return list(session.scalars(select(both.c.id).order_by(both.c.id.desc()).limit(limit).offset(offset)))


def search_versions(session: Session, terms: list[str], *, limit: int, offset: int = 0) -> list[tuple[Measure, MeasureVersion]]:
    """Versions whose text holds every one of ``terms`` (at least one), newest first."""
    if not terms:
        raise ValueError("search_versions needs at least one term")
    find = _postgres_ids if session.get_bind().dialect.name == "postgresql" else _sqlite_ids
    ids = find(session, terms, limit, offset)
    if not ids:
        return []
    found: dict[int, tuple[Measure, MeasureVersion]] = {}
    for batch in in_batches(ids, IN_LIST_SIZE):
        rows = session.execute(select(Measure, MeasureVersion).join(Measure, Measure.id == MeasureVersion.measure_id).where(MeasureVersion.id.in_(batch)))
        found.update((version.id, (measure, version)) for measure, version in rows)
    return [found[i] for i in ids]


_AUTOMERGE = 4  # FTS5's default
# PostgreSQL: the GIN index's pending list (16 MB, migration 0020) merged into the index. After a
# backlog's 100,000 texts it held ~13 MB, and the next run of the list, whose own texts passed the
# limit, merged it: 2.16-2.28 s -> 2.60 s. Only its owner may (else autovacuum does it later).
_MERGE_PENDING = text("SELECT gin_clean_pending_list(c.oid) FROM pg_class c"
                      " WHERE c.relname = 'ix_measure_search_body' AND pg_has_role(c.relowner, 'USAGE')")


def _set_automerge(session: Session, pages: int) -> None:
    session.execute(text("INSERT INTO measure_search(measure_search, rank) VALUES ('automerge', :n)"), {"n": pages})


def index_backlog(session: Session, limit: int = BACKLOG_BATCH) -> int:
    """Move up to ``limit`` of the backlog's versions (newest first: a search shows those first)
    into the index; how many moved. Two indexers at once take different versions (PostgreSQL:
    SKIP LOCKED; SQLite has one writer)."""
    taken = select(SEARCH_BACKLOG.c.version_id).order_by(SEARCH_BACKLOG.c.version_id.desc()).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(taken.with_for_update(skip_locked=True)))
        session.execute(text("INSERT INTO measure_search (version_id, body) SELECT id, measure_search_text(fields, name) "
                             "FROM measure_versions WHERE id = ANY(:ids)"), {"ids": ids})
        if len(ids) < limit:  # the backlog is done: what its inserts left pending is merged here, not by the next run
            session.execute(_MERGE_PENDING)
    else:
        ids = list(session.scalars(taken))
        # FTS5 merges every 4 segments of a level ('automerge') as it writes: a drain of many
        # batches wrote its segments again and again (100,000 versions: 8.6 s of CPU, 6.1 s with
        # merging off while it writes; its 'crisismerge' still merges every 16). The setting is
        # stored in the index, so it is given back in the same transaction.
        _set_automerge(session, 0)
        index_versions(session, ids)
        _set_automerge(session, _AUTOMERGE)
    session.execute(delete(SEARCH_BACKLOG).where(SEARCH_BACKLOG.c.version_id.in_(ids)))
    return len(ids)
