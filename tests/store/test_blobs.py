"""Content-addressed blobs: one row per distinct content, even when two writers race."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from sqlalchemy import func, select

from store.blobs import get_blob, put_blob
from store.database import open_engine, session_factory
from store.models import Blob

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_two_writers_storing_the_same_new_bytes_both_succeed(database_url):
    sessions = session_factory(open_engine(database_url))
    body = "同じページ".encode() * 1000
    first, second = sessions(), sessions()
    first.begin()
    second.begin()
    # Both look before either writes, as two workers do when two hosts serve one page.
    assert first.get(Blob, put_blob(first, body, NOW)) is not None
    errors: list[BaseException] = []

    def write_second() -> None:
        try:
            put_blob(second, body, NOW)
            second.commit()
        except BaseException as exc:  # noqa: BLE001 - the assertion below names it
            errors.append(exc)

    racer = threading.Thread(target=write_second)
    racer.start()
    # Let the second writer look (nothing there yet) and block on its insert before the first commits.
    time.sleep(0.5)
    first.commit()
    racer.join(timeout=30)
    assert not racer.is_alive() and errors == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == 1
        assert get_blob(session, put_blob(session, body, NOW)) == body
