"""event xids: digests read events up to a committed high-water mark instead of locking the table

``events.xid`` is the writing transaction's id (``pg_current_xact_id()``, a server default on
PostgreSQL; 0 on SQLite, whose single writer commits ids in order). A notifier's cursor
becomes the position ``(last_event_xid, last_event_id)`` in (xid, id) order; see
``store/outbox.py`` for why that order loses nothing. Rows already there get xid 0: the
digests before this revision read them under ``LOCK TABLE``, so a cursor's id alone is
exact for them, and every later event sorts after them.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# xid8 has no cast to bigint; through text it is exact (epoch << 32 | xid fits in 63 bits).
CURRENT_XID = "(pg_current_xact_id()::text::bigint)"


def upgrade() -> None:
    op.add_column("events", sa.Column("xid", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("notifier_cursors", sa.Column("last_event_xid", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE events ALTER COLUMN xid SET DEFAULT {CURRENT_XID}")
    op.create_index("ix_events_xid_id", "events", ["xid", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_xid_id", table_name="events")
    with op.batch_alter_table("notifier_cursors") as batch:
        batch.drop_column("last_event_xid")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("xid")
