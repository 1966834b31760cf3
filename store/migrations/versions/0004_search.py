"""search: the text of every measure version, indexed by trigrams (Japanese has no spaces)

SQLite: an FTS5 table ``measure_search`` (trigram tokenizer), rowid = measure_versions.id,
filled by a trigger on insert, so every writer (the pipeline, ``db copy``, a bulk load) keeps
it current without knowing of it. PostgreSQL: a stored generated column
``measure_versions.search_text`` with a pg_trgm GIN index, which serves ILIKE.

The text is the values of ``fields`` decoded from JSON (stored with \\u escapes, which no
trigram of the Japanese text would match), then the name. Versions are never updated or deleted, so inserts are all the index follows.
A later migration that rebuilds measure_versions on SQLite (``batch_alter_table``) drops the
trigger with the old table and must create it again.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SQLITE_TEXT = "(SELECT group_concat(value, ' ') FROM json_each({row}.fields)) || ' ' || {row}.name"

_POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # IMMUTABLE so that a generated column may use it: it reads nothing but its argument.
    "CREATE FUNCTION measure_search_text(fields json, name text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
    "$$ SELECT coalesce(string_agg(value, ' '), '') || ' ' || coalesce(name, '') FROM json_each_text(fields) $$",
    "ALTER TABLE measure_versions ADD COLUMN search_text text GENERATED ALWAYS AS (measure_search_text(fields, name)) STORED",
    "CREATE INDEX ix_measure_versions_search_text ON measure_versions USING gin (search_text gin_trgm_ops)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRES:
            op.execute(statement)
        return
    op.execute("CREATE VIRTUAL TABLE measure_search USING fts5(body, tokenize='trigram')")
    op.execute(
        "CREATE TRIGGER measure_versions_search AFTER INSERT ON measure_versions BEGIN "
        f"INSERT INTO measure_search(rowid, body) VALUES (new.id, {_SQLITE_TEXT.format(row='new')}); END"
    )
    op.execute(f"INSERT INTO measure_search(rowid, body) SELECT id, {_SQLITE_TEXT.format(row='measure_versions')} FROM measure_versions")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_measure_versions_search_text")
        op.execute("ALTER TABLE measure_versions DROP COLUMN search_text")
        op.execute("DROP FUNCTION measure_search_text(json, text)")
        return
    op.execute("DROP TRIGGER measure_versions_search")
    op.execute("DROP TABLE measure_search")
