"""A list's bulk inserts written on a thread of their own (store.writes_behind): what the caller
does next sees them, a failed one fails the caller as its own would have and stores nothing,
and no thread or changed interpreter setting is left behind."""

from __future__ import annotations

import sys
import threading
from datetime import datetime, timezone

import pytest

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from store.database import open_engine, session_factory
from store.models import Measure, MeasureVersion, Snapshot, Source
from store.version_writes import bulk_versions, insert_rows, insert_versions, new_ids
from store.writes_behind import writing_behind

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)
WRITER = "sesaku-bulk-writes"


def _measures(source_id: str, snapshot_id: int, ids: list[int]) -> list[dict[str, object]]:
    return [{"id": i, "source_id": source_id, "key": f"k{i}", "name": f"施策{i}", "first_seen_snapshot_id": snapshot_id, "first_seen_at": NOW} for i in ids]


def _versions(source_id: str, snapshot_id: int, pairs: list[tuple[int, int]]) -> list[dict[str, object]]:
    return [{"id": v, "measure_id": m, "source_id": source_id, "fields": {"施策": f"施策{m}"}, "content_hash": f"{m:064x}",
             "published_digest": None, "name": f"施策{m}", "end_date": None, "valid_from_snapshot_id": snapshot_id, "valid_from": NOW}
            for v, m in pairs]


@pytest.fixture
def sessions(database_url):
    factory = session_factory(open_engine(database_url))
    with factory.begin() as session:
        session.add(Source(id="tama", title="多摩", url="file:///tama.txt", format="text-table", created_at=NOW))
    return factory


def _snapshot(session) -> int:
    snapshot = Snapshot(source_id="tama", fetched_at=NOW, status="baseline")
    session.add(snapshot)
    session.flush()
    return snapshot.id


def _writer_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith(WRITER)]


def test_a_query_after_queued_inserts_sees_every_row_and_the_rows_are_stored(sessions):
    with sessions.begin() as session:
        snapshot_id = _snapshot(session)
        with bulk_versions(session, 6000):
            for batch in range(1, 7):  # more batches than are queued ahead: the caller also waits for the writer
                ids = new_ids(session, "measures", 1000)
                insert_rows(session, "measures", _measures("tama", snapshot_id, ids))
                insert_versions(session, _versions("tama", snapshot_id, list(zip(new_ids(session, "measure_versions", 1000), ids, strict=True))))
                # The versions just queued reference the measures queued before them, and this count sees both.
                assert session.execute(select(func.count()).select_from(MeasureVersion)).scalar_one() == 1000 * batch
    with sessions() as session:
        assert session.execute(select(func.count()).select_from(Measure)).scalar_one() == 6000
        assert session.execute(select(func.count()).select_from(MeasureVersion)).scalar_one() == 6000
    assert _writer_threads() == []


def test_a_failed_insert_fails_the_caller_as_its_own_and_stores_nothing(sessions):
    usual = sys.getswitchinterval()
    with pytest.raises(IntegrityError), sessions.begin() as session:
        snapshot_id = _snapshot(session)
        with bulk_versions(session, 3000):
            ids = new_ids(session, "measures", 1000)
            insert_rows(session, "measures", _measures("tama", snapshot_id, ids))
            insert_rows(session, "measures", _measures("tama", snapshot_id, ids[:10]))  # the same ids again
            insert_rows(session, "measures", _measures("tama", snapshot_id, [i + 1000 for i in ids]))  # dropped after the failure
            session.execute(select(func.count()).select_from(Measure))
    with sessions() as session:
        assert session.execute(select(func.count()).select_from(Measure)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Snapshot)).scalar_one() == 0
    assert _writer_threads() == []
    assert sys.getswitchinterval() == usual


def test_an_exception_of_the_caller_while_inserts_are_queued_rolls_them_back(sessions):
    with pytest.raises(RuntimeError, match="the caller failed"), sessions.begin() as session:
        snapshot_id = _snapshot(session)
        with bulk_versions(session, 5000):
            for _ in range(5):
                insert_rows(session, "measures", _measures("tama", snapshot_id, new_ids(session, "measures", 1000)))
            raise RuntimeError("the caller failed")
    with sessions() as session:
        assert session.execute(select(func.count()).select_from(Measure)).scalar_one() == 0
    assert _writer_threads() == []


def test_lists_written_at_once_leave_the_switch_interval_as_it_was(tmp_path):
    """A daemon writes several lists at once: the interval is short while any writes and back
    once none does, whichever ends first."""
    usual = sys.getswitchinterval()
    factory = session_factory(open_engine(f"sqlite:///{tmp_path / 'store.db'}"))
    inside = threading.Barrier(3, timeout=30)
    seen: list[float] = []
    errors: list[BaseException] = []

    def write(linger: threading.Event) -> None:
        try:
            with factory() as session, writing_behind(session.connection()):
                seen.append(sys.getswitchinterval())
                inside.wait()
                linger.wait(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    first_done, second_done = threading.Event(), threading.Event()
    writers = [threading.Thread(target=write, args=(first_done,)), threading.Thread(target=write, args=(second_done,))]
    for writer in writers:
        writer.start()
    inside.wait()
    first_done.set()
    writers[0].join(timeout=30)
    still = sys.getswitchinterval()
    second_done.set()
    writers[1].join(timeout=30)
    assert errors == []
    assert len(seen) == 2 and all(interval < usual for interval in seen)
    assert still < usual  # the other list is still being written
    assert sys.getswitchinterval() == usual
    assert _writer_threads() == []


def test_an_in_memory_sqlite_database_is_written_in_the_callers_thread():
    """Another thread would see another in-memory database: its inserts are not queued."""
    factory = session_factory(open_engine("sqlite://"))
    with factory.begin() as session:
        session.add(Source(id="tama", title="多摩", url="file:///tama.txt", format="text-table", created_at=NOW))
        session.flush()
        snapshot_id = _snapshot(session)
        with bulk_versions(session, 10):
            insert_rows(session, "measures", _measures("tama", snapshot_id, new_ids(session, "measures", 10)))
            assert _writer_threads() == []
        assert session.execute(select(func.count()).select_from(Measure)).scalar_one() == 10
