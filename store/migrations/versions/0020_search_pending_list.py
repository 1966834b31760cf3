"""PostgreSQL: the search index's pending list holds a run's new texts

A version's text goes into ``ix_measure_search_body`` (pg_trgm's GIN index, migration 0018)
through GIN's pending list, cheap to append to; when the list passes ``gin_pending_list_limit``
(4 MB by default) the inserting statement merges it into the index there and then. A run of a
100,000-row list that writes 2,500 new versions (about 9.5 MB of pending entries) filled it
twice: 480-645 ms of the run's COPYs were those merges, 225-285 ms with a limit of 16 MB, which
holds such a run's texts. Autovacuum merges the list later, outside any run (200 ms for that
run's). Meanwhile a search reads the list beside the index: 2-3 ms instead of 0.2-0.5 ms. A
write of 5,000 versions or more does not index its texts at all (migration 0018's backlog), and
the job that indexes the backlog merges the list when it is done (store.search.index_backlog).
SQLite's FTS5 index has no such list: nothing to do.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_LIMIT_KB = 16384


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX ix_measure_search_body SET (gin_pending_list_limit = {_LIMIT_KB})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_measure_search_body RESET (gin_pending_list_limit)")
