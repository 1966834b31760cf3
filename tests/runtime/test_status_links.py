"""``status`` counts the cited links from a total the database keeps (migration 0019), not by a
pass over ``links``: the total follows every write of ``links`` on both backends, and on
PostgreSQL two runs that cite links at once do not wait for each other over it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, insert, select, text, update

from monitor.runtime.check import open_store
from monitor.runtime.status import read_status
from store.database import engine_of, transaction
from store.models import Link
from tests.conftest import make_config, statements_run
from tests.web.test_overview import NOW


def _link(n: int, *, cited: bool = True) -> Link:
    return Link(url=f"https://example.lg.jp/{n}", host="example.lg.jp", first_seen_at=NOW, cited=cited, consecutive_failures=0)


def test_status_counts_the_cited_links_through_every_kind_of_write(database_url):
    config = make_config(database_url)
    sessions = open_store(config)
    engine = engine_of(sessions)

    def cited() -> int:
        with statements_run(engine) as statements:
            found = read_status(config, engine, NOW).links["cited"]
        # Only the unwell links' partial index is read from links: the cited are not counted there.
        assert [s for s, _ in statements if "FROM links" in s] == [s for s, _ in statements if "FROM links" in s and "dead_since" in s]
        with engine.connect() as connection:
            assert found == connection.scalar(select(func.count()).select_from(Link).where(Link.cited.is_(True)))
        return found

    assert cited() == 0
    with transaction(sessions) as session:
        session.add_all([_link(n, cited=n % 4 != 0) for n in range(20)])  # 15 cited, 5 not
    assert cited() == 15
    with transaction(sessions) as session:  # a check's write leaves the count as it was
        session.execute(update(Link).values(next_check_at=NOW + timedelta(days=1), consecutive_failures=1))
    assert cited() == 15
    with transaction(sessions) as session:  # uncited and cited again in one transaction, and a few uncited
        session.execute(update(Link).where(Link.url.endswith("/1")).values(cited=False))
        session.execute(update(Link).where(Link.url.endswith("/1")).values(cited=True))
        session.execute(update(Link).where(Link.url.in_([f"https://example.lg.jp/{n}" for n in (2, 3, 4, 5)])).values(cited=~Link.cited))
    assert cited() == 13  # 2, 3 and 5 uncited, 4 cited
    with transaction(sessions) as session:
        session.execute(delete(Link).where(Link.url.in_([f"https://example.lg.jp/{n}" for n in (6, 8)])))  # one cited, one not
    assert cited() == 12
    with transaction(sessions) as session:  # a transaction rolled back counts nothing
        session.add_all([_link(n) for n in range(100, 110)])
        session.flush()
        session.rollback()
    assert cited() == 12


def test_postgresql_runs_citing_links_at_once_do_not_wait_for_each_other(database_url):
    """Each cites links in a transaction left open while the other writes: neither waits on the
    total (lock_timeout would say so), and the total holds both once they commit."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time")
    config = make_config(database_url)
    sessions = open_store(config)
    engine = engine_of(sessions)
    first_wrote, second_done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '2s'"))
                connection.execute(insert(Link), [{"url": f"https://a.lg.jp/{n}", "host": "a.lg.jp", "first_seen_at": NOW, "cited": True,
                                                              "consecutive_failures": 0} for n in range(3)])
                first_wrote.set()
                assert second_done.wait(10)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
            first_wrote.set()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_wrote.wait(10)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL lock_timeout = '2s'"))
        connection.execute(insert(Link), [{"url": f"https://b.lg.jp/{n}", "host": "b.lg.jp", "first_seen_at": NOW, "cited": True,
                                                      "consecutive_failures": 0} for n in range(2)])
    second_done.set()
    thread.join(10)
    assert not failures
    assert read_status(config, engine, NOW).links["cited"] == 5
    with transaction(sessions) as session:
        session.execute(update(Link).where(Link.host == "a.lg.jp").values(cited=False))
    assert read_status(config, engine, NOW).links["cited"] == 2
    with engine.connect() as connection:  # folded as it goes: a row or two, not one per write
        assert connection.scalar(text("SELECT count(*) FROM link_totals")) <= 2
