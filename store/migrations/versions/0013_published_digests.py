"""published digests: a big list's unchanged rows paired without reading their fields

A run pairs most rows of a new version with their old selves by the text they were published
as. That text was made again, for every listed row on every run, from the version's JSON
fields: at 100,000 rows, seconds of decoding. ``measure_versions.published_digest`` keeps a
digest of it (16 bytes, made by ``monitor.lists.versioning`` when the version is written).
Versions written before have none: a run makes theirs from their fields once and stores it.

SQLite's search index (0004) was filled by a trigger, one FTS5 insert per version: each one a
statement of its own, after which FTS5 writes out its pending terms. The bulk writer
(``store.version_writes.insert_versions``) now fills the index with one ``INSERT … SELECT`` per
batch instead, and says so by a row in ``measure_search_deferred`` (inside its own transaction,
so no one else ever sees it); the trigger stays for every other writer.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_SQLITE_TEXT = "(SELECT group_concat(value, ' ') FROM json_each(new.fields)) || ' ' || new.name"


def _trigger(when: str) -> str:
    return (f"CREATE TRIGGER measure_versions_search AFTER INSERT ON measure_versions {when}BEGIN "
            f"INSERT INTO measure_search(rowid, body) VALUES (new.id, {_SQLITE_TEXT}); END")


def upgrade() -> None:
    op.add_column("measure_versions", sa.Column("published_digest", sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_table("measure_search_deferred", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("DROP TRIGGER measure_versions_search")
    op.execute(_trigger("WHEN NOT EXISTS (SELECT 1 FROM measure_search_deferred) "))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_column("measure_versions", "published_digest")
        return
    op.execute("DROP TRIGGER measure_versions_search")
    op.execute(_trigger(""))
    op.drop_table("measure_search_deferred")
    # SQLite's own DROP COLUMN (3.35): a batch would rebuild the table other tables refer to.
    op.execute("ALTER TABLE measure_versions DROP COLUMN published_digest")
