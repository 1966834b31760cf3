"""sources' newest snapshot: each source names its newest run, kept by the database

``status`` and the web's overview asked for every source's newest snapshot by a probe of
``ix_snapshots_source_fetched`` a source (newest ``fetched_at``, then ``id``): at 18,000 lists
that was 0.23-0.45 s of PostgreSQL's time, half of ``status``. ``sources.newest_snapshot_id``
names it, so that one pass over ``sources`` joined by primary key reads them all.

A trigger on ``snapshots`` keeps it, in the transaction that inserts the snapshot, whichever
code writes one (a run, a test's fixture, a bench's bulk load): a snapshot becomes its
source's newest unless the one named is newer (a later ``fetched_at``, or the same and a
larger id). Snapshots are never deleted nor moved to another source, so inserts are all it
needs. It names the snapshot rather than copying its status: a run sets a snapshot's status
after inserting it. No foreign key: the two tables would each refer to the other.
``db copy`` relies on it too: the target names each source's newest snapshot as the
snapshots come in (store.copy compares a row already there without the column).

The backfill runs in the migration, the same ordering as the trigger's.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_BACKFILL = """
UPDATE sources SET newest_snapshot_id = (
  SELECT s.id FROM snapshots s WHERE s.source_id = sources.id ORDER BY s.fetched_at DESC, s.id DESC LIMIT 1)
"""
# The one named stays when it is newer than the new one (fetched later, or at once with a larger id).
_NEWER = """
SELECT 1 FROM snapshots s WHERE s.id = sources.newest_snapshot_id
   AND (s.fetched_at > NEW.fetched_at OR (s.fetched_at = NEW.fetched_at AND s.id > NEW.id))
"""
_SET = f"UPDATE sources SET newest_snapshot_id = NEW.id WHERE id = NEW.source_id AND NOT EXISTS ({_NEWER});"

_SQLITE_TRIGGER = f"CREATE TRIGGER snapshots_newest AFTER INSERT ON snapshots BEGIN {_SET} END"
_POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION sources_newest_snapshot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_SET}
  RETURN NULL;
END $$
"""
_POSTGRESQL_TRIGGER = "CREATE TRIGGER snapshots_newest AFTER INSERT ON snapshots FOR EACH ROW EXECUTE FUNCTION sources_newest_snapshot()"


def upgrade() -> None:
    op.add_column("sources", sa.Column("newest_snapshot_id", sa.Integer(), nullable=True))
    op.execute(_BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRESQL_FUNCTION)
        op.execute(_POSTGRESQL_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER snapshots_newest" + (" ON snapshots" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION sources_newest_snapshot()")
    op.drop_column("sources", "newest_snapshot_id")  # SQLite 3.35+ drops a column in place
