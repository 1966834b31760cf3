"""compare indexes: two dates of a list compared from the indexes alone

``store.compare`` reads, for one source, every version in force on either of two days (its
measure and content digest) and, for each measure whose digest differs, whether a changed or
renamed event was stored in between. With ``ix_measure_versions_source_from`` (source_id,
valid_from) and ``ix_events_measure`` (measure_id) each of those rows was a read of the table
row (a version's JSON fields, an event's payload): at 50,000 changed measures, seconds. With
valid_to, measure_id and content_hash in the one and kind and created_at in the other, both
are index-only; the old indexes are their prefixes, so they go.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_measure_versions_source_span", "measure_versions", ["source_id", "valid_from", "valid_to", "measure_id", "content_hash"])
    op.drop_index("ix_measure_versions_source_from", table_name="measure_versions")
    op.create_index("ix_events_measure_kind", "events", ["measure_id", "kind", "created_at"])
    op.drop_index("ix_events_measure", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_measure", "events", ["measure_id"])
    op.drop_index("ix_events_measure_kind", table_name="events")
    op.create_index("ix_measure_versions_source_from", "measure_versions", ["source_id", "valid_from"])
    op.drop_index("ix_measure_versions_source_span", table_name="measure_versions")
