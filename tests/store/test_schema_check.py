"""Is the database at this version's schema? Answered from the alembic_version row, not by Alembic."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from store.database import MIGRATIONS, _alembic_config, head_revision, open_engine
from store.errors import StoreError


def _set_revision(url: str, revision: str) -> None:
    engine = open_engine(url, require_current=False, upgrade_sqlite=False)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})
    engine.dispose()


def test_the_head_read_from_the_migration_files_is_alembics():
    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_a_database_behind_is_upgraded_on_sqlite_and_refused_on_postgresql_with_the_command_that_fixes_it(database_url):
    engine = open_engine(database_url)  # a SQLite file is created and upgraded here
    command.downgrade(_alembic_config(engine), "0011")
    engine.dispose()
    if database_url.startswith("sqlite"):
        engine = open_engine(database_url)  # SQLite is brought up to date on opening
        assert engine.connect().execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
        engine.dispose()
        return
    with pytest.raises(StoreError, match=rf"is at schema 0011, this version needs {head_revision()}: run `sesaku-monitor db upgrade`"):
        open_engine(database_url)


def test_a_database_written_by_a_newer_version_is_refused_by_name(database_url):
    open_engine(database_url).dispose()
    _set_revision(database_url, "9999")
    with pytest.raises(StoreError, match=rf"is at schema 9999, newer than this version of sesaku-monitor knows \(its newest is {head_revision()}\)"):
        open_engine(database_url)


def test_opening_a_database_at_head_loads_no_migration(tmp_path):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    open_engine(url).dispose()
    code = (f"import sys\nfrom store.database import open_engine\nopen_engine({url!r}).dispose()\n"
            "print(sorted(name for name in sys.modules if name.startswith('alembic')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
