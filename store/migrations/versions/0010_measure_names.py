"""measure names: find the same measure in other lists (store.siblings) by an index

Measures of two lists are the same one when they shared a normalised name: a self-join of
``measure_versions`` on ``name``. The index is on the name's first 200 characters (the join
compares the whole name too), so that a list with a pathologically long name cell can never
fail an insert on PostgreSQL's limit of a btree entry.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_measure_versions_name_prefix", "measure_versions", [sa.text("substr(name, 1, 200)")])


def downgrade() -> None:
    op.drop_index("ix_measure_versions_name_prefix", table_name="measure_versions")
