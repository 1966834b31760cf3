"""search without positions: SQLite's search index keeps which versions hold a trigram, not where

The FTS5 index of 0004 kept every trigram's positions in every version (``detail=full``), so that
a term of four characters or more was one phrase of adjacent trigrams, and a size per version
(``columnsize``) for a ranking no query uses. Without them (``detail=none``, ``columnsize=0``) the
index of a 100,000-row list is written in about a quarter less CPU (6.2 instead of 8.6 s) and
takes 24 instead of 57 MB besides its text; a term is then looked up as its trigrams, each found
anywhere in the version, and checked whole against the indexed text by LIKE (store.search). The texts are
copied as they are; PostgreSQL's pg_trgm index is untouched.

The trigger of 0013 names the index: it is dropped while the new table takes the old one's
name, and made again from its own stored text.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_OPTIONS = {"upgrade": ", detail=none, columnsize=0", "downgrade": ""}


def _rebuild(options: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    trigger = op.get_bind().exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'measure_versions_search'").scalar_one()
    op.execute("DROP TRIGGER measure_versions_search")
    op.execute(f"CREATE VIRTUAL TABLE measure_search_next USING fts5(body, tokenize='trigram'{options})")
    # One statement, merged once at the end (store.version_writes: FTS5's automerge).
    op.execute("INSERT INTO measure_search_next(measure_search_next, rank) VALUES ('automerge', 0)")
    op.execute("INSERT INTO measure_search_next(rowid, body) SELECT rowid, body FROM measure_search")
    op.execute("INSERT INTO measure_search_next(measure_search_next, rank) VALUES ('automerge', 4)")
    op.execute("DROP TABLE measure_search")
    op.execute("ALTER TABLE measure_search_next RENAME TO measure_search")
    op.execute(trigger)


def upgrade() -> None:
    _rebuild(_OPTIONS["upgrade"])


def downgrade() -> None:
    _rebuild(_OPTIONS["downgrade"])
