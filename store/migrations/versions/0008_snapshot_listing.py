"""snapshot listings: the measure ids of a list's rows in published order (store/listing.py)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("snapshots", sa.Column("listing_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("snapshots", "listing_sha256")
