"""search backlog: a big list's versions are indexed after its run, not inside it

Writing a 100,000-row list's versions into the trigram index took most of its baseline: on
SQLite 5 of 13 s (FTS5), on PostgreSQL about 30 of 40 s (pg_trgm's GIN index, fed row by row
through its pending list). A write of many versions (store.version_writes.bulk_versions) now
puts their ids in ``search_backlog`` instead; the job ``search:index`` (or ``sesaku-monitor
db index``) moves them into the index in small transactions, and until then a search scans the
backlog's versions too (store.search), so nothing is ever missing from an answer.

PostgreSQL: the text leaves ``measure_versions`` (a generated column that every UPDATE closing a
version re-indexed: a run's 2,500 closings took 638 instead of 92 ms) for an insert-only table
``measure_search(version_id, body)`` with the same pg_trgm index, filled by a statement trigger
on ``measure_versions`` from its transition table (COPY fires it too): into the index, or into
the backlog while the writing transaction has set ``sesaku.search_later`` (SET LOCAL, so no
one else ever sees it). SQLite keeps its FTS5 table and trigger; the backlog is a table beside.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_POSTGRES_UP = [
    "CREATE TABLE search_backlog (version_id integer PRIMARY KEY)",
    "CREATE TABLE measure_search (version_id integer PRIMARY KEY, body text NOT NULL)",
    "INSERT INTO measure_search (version_id, body) SELECT id, search_text FROM measure_versions",
    "CREATE INDEX ix_measure_search_body ON measure_search USING gin (body gin_trgm_ops)",
    "ALTER TABLE measure_versions DROP COLUMN search_text",  # its index goes with it
    "CREATE FUNCTION measure_versions_search() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF current_setting('sesaku.search_later', true) = 'on' THEN "
    "INSERT INTO search_backlog (version_id) SELECT id FROM new_versions; "
    "ELSE INSERT INTO measure_search (version_id, body) SELECT id, measure_search_text(fields, name) FROM new_versions; "
    "END IF; RETURN NULL; END $$",
    "CREATE TRIGGER measure_versions_search AFTER INSERT ON measure_versions REFERENCING NEW TABLE AS new_versions "
    "FOR EACH STATEMENT EXECUTE FUNCTION measure_versions_search()",
]

_POSTGRES_DOWN = [
    "DROP TRIGGER measure_versions_search ON measure_versions",
    "DROP FUNCTION measure_versions_search()",
    "ALTER TABLE measure_versions ADD COLUMN search_text text GENERATED ALWAYS AS (measure_search_text(fields, name)) STORED",
    "CREATE INDEX ix_measure_versions_search_text ON measure_versions USING gin (search_text gin_trgm_ops)",
    "DROP TABLE measure_search",
    "DROP TABLE search_backlog",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRES_UP:
            op.execute(statement)
        return
    op.execute("CREATE TABLE search_backlog (version_id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRES_DOWN:
            op.execute(statement)
        return
    # The backlog's versions go into the index first: before 0018 every version is in it.
    op.execute("INSERT INTO measure_search(rowid, body) SELECT v.id, (SELECT group_concat(value, ' ') FROM json_each(v.fields)) || ' ' || v.name "
               "FROM measure_versions v JOIN search_backlog b ON b.version_id = v.id")
    op.execute("DROP TABLE search_backlog")
