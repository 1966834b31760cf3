"""Opening the database: engines, sessions, SQLite pragmas and Alembic upgrades."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from store.errors import DatabaseLocked, DiskFull, ReadOnlyDatabase, StoreError

if TYPE_CHECKING:
    # The ORM only where sessions are made: `status` reads with Core and never loads it (0.06-0.1 s).
    from sqlalchemy.orm import Session

    # Alembic is imported where a schema is read or upgraded: it is slow to load, and every
    # command opens the database but few need a migration.
    from alembic.config import Config as AlembicConfig

__all__ = [
    "open_engine", "session_factory", "engine_of", "upgrade", "current_revision", "head_revision", "transaction", "SessionFactory", "retry_when_locked",
    "store_error", "printable_url", "first_line",
]

SessionFactory = Callable[[], "Session"]
MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")
# What the drivers say, lower-cased, for each fault a person can fix (SQLite, then PostgreSQL).
_LOCKED = ("database is locked", "database table is locked")
_FULL = ("database or disk is full", "no space left on device", "disk quota exceeded")
_READ_ONLY = ("readonly database", "read-only file system", "read-only transaction")
# A migration file's own lines: `revision = "0014"`, `down_revision = "0013"` (or a tuple of them, a merge).
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")
# Less free space than this where the SQLite file lives makes its "disk I/O error" a full disk.
_FULL_BELOW = 1 << 20


def _prepare_sqlite(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def open_engine(url: str, *, busy_timeout_s: float = 30.0, upgrade_sqlite: bool = True, require_current: bool = True,
                pool_size: int | None = None) -> Engine:
    """An engine for ``url``; a SQLite file is created, put in WAL mode and brought up to date.

    PostgreSQL is never migrated implicitly, since several workers may open it at once:
    ``sesaku-monitor db upgrade`` does that, once. ``pool_size``: at most that many
    connections to PostgreSQL (a worker's bound), else SQLAlchemy's 5 + 10 overflow.
    """
    try:
        if url.startswith("sqlite"):
            _prepare_sqlite(url)
            engine = create_engine(url, connect_args={"timeout": busy_timeout_s}, json_serializer=_json_text)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "handle_error", _note_file)
        else:
            bound = {"pool_size": pool_size, "max_overflow": 0} if pool_size else {}
            engine = create_engine(url, pool_pre_ping=True, json_serializer=_json_text, **bound)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"database url {printable_url(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite" and upgrade_sqlite:
        _upgrade_if_behind(engine)
    elif require_current:
        _require_current(engine)
    return engine


def _json_text(value: Any) -> str:
    """A JSON column's stored text. Non-ASCII characters are kept as they are: escaped (\\uXXXX,
    json.dumps's default) a Japanese character took 6 bytes instead of 3, and a 100,000-row
    list's versions 110 instead of 67 MB to write, read and decode for the search index.
    Text stored escaped before reads back the same."""
    return json.dumps(value, ensure_ascii=False)


def printable_url(url: str) -> str:
    """``url`` with its password hidden, for a message."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable)"


def _note_file(context: ExceptionContext) -> None:
    """Tell :func:`store_error` which file failed: SQLite says "disk I/O error" when a full disk
    stops it writing its -wal or -shm file, and only the free space there tells the two apart."""
    if context.sqlalchemy_exception is not None:
        context.sqlalchemy_exception.sqlite_file = context.engine.url.database if context.engine else None  # type: ignore[attr-defined]


def _no_space_at(database: object) -> bool:
    if not isinstance(database, str) or database in ("", ":memory:") or database.startswith("file:"):
        return False
    try:
        return shutil.disk_usage(Path(database).parent).free < _FULL_BELOW
    except OSError:
        return False


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration, read from the ``revision = …`` lines of the migration files.

    Importing Alembic's script directory loads every migration module (a third of a second
    of every command); the files' own assignment lines say the same for a few reads.
    """
    known = _revisions()
    heads = set(known) - {down for downs in known.values() for down in downs}
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # branches or an unreadable file: let Alembic say what is wrong

    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def _revisions() -> dict[str, tuple[str, ...]]:
    """Every migration's revision and the revisions it follows, from its file's assignment lines."""
    known: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        lines = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(lines), _DOWN_REVISION.search(lines)
        if revision:
            known[revision.group(1)] = tuple(_QUOTED.findall(down.group(1))) if down else ()
    return known


def current_revision(engine: Engine) -> str | None:
    """The revision stored in ``alembic_version`` (None: an empty database), in one query."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except OperationalError as exc:
        fault = store_error(exc, f"database {printable_url(str(engine.url))}")
        raise (fault if type(fault) is not StoreError else StoreError(f"cannot open database {printable_url(str(engine.url))}: {first_line(exc)}")) from exc


def _require_current(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        _refuse_newer(engine, current, head)
        raise StoreError(
            f"database {printable_url(str(engine.url))} is at schema {current or 'empty'}, this version needs {head}: "
            "run `sesaku-monitor db upgrade`"
        )


def _upgrade_if_behind(engine: Engine) -> None:
    """A SQLite file at the newest schema is left alone: Alembic's upgrade loads every migration to find nothing to do."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        _refuse_newer(engine, current, head)
        upgrade(engine)


def _refuse_newer(engine: Engine, current: str | None, head: str) -> None:
    """A schema no migration here names was written by a newer sesaku-monitor: upgrading cannot help."""
    if current is not None and current not in _revisions():
        raise StoreError(f"database {printable_url(str(engine.url))} is at schema {current}, newer than this version of sesaku-monitor "
                         f"knows (its newest is {head}): run the version that upgraded it")


def upgrade(engine: Engine) -> None:
    try:
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        fault = store_error(exc, f"database {printable_url(str(engine.url))}")
        raise (fault if type(fault) is not StoreError else StoreError(f"cannot upgrade database {printable_url(str(engine.url))}: {first_line(exc)}")) from exc


def store_error(exc: BaseException, where: str = "the database", *, waited_s: float | None = None) -> StoreError:
    """The one line a person reads for a driver's error, as the StoreError of its fault."""
    detail = first_line(exc)
    text = detail.lower()
    if any(marker in text for marker in _LOCKED):
        waited = f" (waited {waited_s:g} s: database.busy_timeout_s)" if waited_s is not None else ""
        return DatabaseLocked(f"{where} is locked by another process writing to it{waited}; try again when it is done")
    if any(marker in text for marker in _FULL) or ("disk i/o error" in text and _no_space_at(getattr(exc, "sqlite_file", None))):
        return DiskFull(f"no space left on the disk of {where}: free some space and run again ({detail})")
    if any(marker in text for marker in _READ_ONLY) or "unable to open database file" in text:
        return ReadOnlyDatabase(f"{where} cannot be written: its file, folder or file system is read-only ({detail})")
    return StoreError(f"{where} refused: {detail}")


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (the driver's own, under SQLAlchemy's wrapping)."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def session_factory(engine: Engine) -> SessionFactory:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def engine_of(sessions: SessionFactory) -> Engine:
    """The engine behind a session factory (for the run locks, which hold connections of their own)."""
    with sessions() as session:
        bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


@contextmanager
def transaction(sessions: SessionFactory) -> Iterator[Session]:
    """One unit of work: commit at the end, roll back on any error."""
    with sessions() as session, session.begin():
        yield session


def retry_when_locked(work: Callable[[], T], *, wait_s: float = 30.0) -> T:
    """Run ``work`` again while the database is locked by another process, for ``wait_s`` in all.

    SQLite's own busy handler already waits ``busy_timeout_s`` inside a statement; a lock met
    at once (a read turning into a write in WAL mode) is tried again here, within the same
    ``wait_s`` from the first try, so that a command never waits several times its setting.
    Any other fault (disk full, read-only) is raised at once as its StoreError.
    """
    started = time.monotonic()
    delay = min(0.05, wait_s)
    while True:
        try:
            return work()
        except OperationalError as exc:
            waited = time.monotonic() - started
            fault = store_error(exc, waited_s=round(wait_s, 3))
            if not isinstance(fault, DatabaseLocked) or waited + delay >= wait_s:
                raise fault from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
