"""sources.rebaseline_requested_at: `sources rebaseline ID` asks the next good run for a fresh baseline

Set by ``sesaku-monitor sources rebaseline``; while it is set, a run of the source ignores its
last good snapshot (no conditional GET, no "same bytes" shortcut, no guard against the last
count) and stores what it reads as a baseline, without events; that run clears it.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("rebaseline_requested_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("rebaseline_requested_at")
