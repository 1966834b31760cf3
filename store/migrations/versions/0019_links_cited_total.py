"""links' cited total: how many links are cited, kept by the database as links change

``status`` printed how many links are cited by counting them on ``ix_links_due_host``: an
index-only pass that grows with the links (0.15-0.3 s of PostgreSQL's time at 1,000,000, five
times that at the 5,000,000 of every body's lists). ``link_totals`` holds the count instead,
kept by triggers in the transaction that changes ``links``, whichever code writes them (a run,
the daily reconcile, ``db copy``, a bench's COPY); ``status`` reads ``sum(cited)``.

PostgreSQL: each statement that inserts, deletes or changes ``cited`` adds its difference as a
row of its own, folding into it the rows no other transaction holds (``SKIP LOCKED``). One row
updated in place would be locked by each run that cites or uncites until it commits, so that
runs in several workers, which take the citations lock shared (store.links.hold_citations) so
as not to wait for each other, would wait for each other there. The table stays a row or a few.
SQLite (one writer at a time): one row, kept by row triggers on the changes of ``cited`` alone.
Not in ``store.models``: derived from ``links``, it is not copied by ``db copy``, whose target
counts the links it is given.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_TABLE = "CREATE TABLE link_totals (cited bigint NOT NULL)"
_BACKFILL = "INSERT INTO link_totals (cited) SELECT count(*) FROM links WHERE cited"

# INSERT and DELETE: a statement trigger counts the cited rows of its transition table. UPDATE:
# a row trigger on the rows whose ``cited`` changed adds each change up in a setting of the
# transaction (SET LOCAL: no one else sees it), which the statement trigger then writes. The
# check of a link updates other columns only (``UPDATE OF cited`` leaves it alone): a statement
# trigger on every UPDATE, whose transition tables cannot name columns, was 0.1 ms more a check.
_POSTGRESQL_FUNCTIONS = (
    """
CREATE FUNCTION links_cited_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('sesaku.cited_delta', (coalesce(nullif(current_setting('sesaku.cited_delta', true), ''), '0')::bigint
                     + CASE WHEN NEW.cited THEN 1 ELSE -1 END)::text, true);
  RETURN NULL;
END $$
""",
    """
CREATE FUNCTION links_cited_total() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT count(*) INTO delta FROM new_links WHERE cited;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT -count(*) INTO delta FROM old_links WHERE cited;
  ELSE
    delta := coalesce(nullif(current_setting('sesaku.cited_delta', true), ''), '0')::bigint;
    PERFORM set_config('sesaku.cited_delta', '0', true);
  END IF;
  IF delta <> 0 THEN
    WITH folded AS (
      DELETE FROM link_totals WHERE ctid = ANY(ARRAY(SELECT ctid FROM link_totals FOR UPDATE SKIP LOCKED)) RETURNING cited)
    INSERT INTO link_totals (cited) SELECT delta + coalesce(sum(cited), 0) FROM folded;
  END IF;
  RETURN NULL;
END $$
""",
)
# A statement's AFTER ROW triggers fire before its AFTER STATEMENT ones.
_POSTGRESQL_TRIGGERS = {
    "links_cited_insert": "AFTER INSERT ON links REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION links_cited_total()",
    "links_cited_change": "AFTER UPDATE OF cited ON links FOR EACH ROW WHEN (OLD.cited IS DISTINCT FROM NEW.cited) "
                          "EXECUTE FUNCTION links_cited_changed()",
    "links_cited_update": "AFTER UPDATE OF cited ON links FOR EACH STATEMENT EXECUTE FUNCTION links_cited_total()",
    "links_cited_delete": "AFTER DELETE ON links REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION links_cited_total()",
}
_SQLITE_TRIGGERS = {
    "links_cited_insert": "AFTER INSERT ON links WHEN NEW.cited BEGIN UPDATE link_totals SET cited = cited + 1; END",
    "links_cited_update": "AFTER UPDATE OF cited ON links WHEN OLD.cited IS NOT NEW.cited "
                          "BEGIN UPDATE link_totals SET cited = cited + CASE WHEN NEW.cited THEN 1 ELSE -1 END; END",
    "links_cited_delete": "AFTER DELETE ON links WHEN OLD.cited BEGIN UPDATE link_totals SET cited = cited - 1; END",
}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(_TABLE)
    for function in _POSTGRESQL_FUNCTIONS if postgresql else ():
        op.execute(function)
    for name, trigger in (_POSTGRESQL_TRIGGERS if postgresql else _SQLITE_TRIGGERS).items():
        op.execute(f"CREATE TRIGGER {name} {trigger}")
    # After the triggers, in the same transaction: on PostgreSQL their creation holds back every writer of links until it commits.
    op.execute(_BACKFILL)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in _POSTGRESQL_TRIGGERS if postgresql else _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" + (" ON links" if postgresql else ""))
    for function in ("links_cited_changed", "links_cited_total") if postgresql else ():
        op.execute(f"DROP FUNCTION {function}()")
    op.execute("DROP TABLE link_totals")
