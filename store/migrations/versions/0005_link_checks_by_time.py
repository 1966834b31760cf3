"""link_checks by time: the compaction job finds old checks without scanning every link's history

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_link_checks_checked", "link_checks", ["checked_at"])


def downgrade() -> None:
    op.drop_index("ix_link_checks_checked", table_name="link_checks")
