"""link repairs: what to write instead of a dead or moved link, checked live once, read by every view

One row per suggestion of a link (``rank`` 0 is the best), replaced whenever the link's
candidates are checked again (monitor/links/repair_check.py), so pages, the API and digests
read them without probing anything. A snapshot suggestion keeps the stored page's visible
text as a blob (``text_sha256``), so the web view shows it as plain text, never as a page.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_repairs",
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name=op.f("fk_link_repairs_link_id_links")),
        sa.PrimaryKeyConstraint("link_id", "rank", name=op.f("pk_link_repairs")),
    )


def downgrade() -> None:
    op.drop_table("link_repairs")
