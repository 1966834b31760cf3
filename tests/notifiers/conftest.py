"""Fixtures for the notifier tests: real SMTP and HTTP servers on loopback, one per test.

Sample events live in ``samples.py``, the servers themselves in ``servers.py``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.conftest import fresh_database
from tests.notifiers.servers import Inbox, Receiver, accept_monitor, drop_after_data, free_port, refuse_all
from tests.notifiers.world import HOOK_SECRET, SMTP_PASSWORD, World


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database (skipped without SESAKU_TEST_POSTGRES_URL), for the tests of the mark."""
    with fresh_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    """Plain SMTP that accepts AUTH for monitor / s3cret-pw (without TLS: loopback only)."""
    yield from _serve(accept_monitor)


@pytest.fixture
def smtp_refusing_login() -> Iterator[tuple[Controller, Inbox]]:
    yield from _serve(refuse_all)


def _serve(authenticator: Callable[..., AuthResult]) -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    # aiosmtpd offers AUTH only over TLS unless told otherwise.
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_dropping() -> Iterator[int]:
    """The port of an SMTP server that hangs up in the middle of the message."""
    listener = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=drop_after_data, args=(listener,), daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    # A short poll interval: shutdown() waits for the loop to notice, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def notifier_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secrets a notifier config names as ${SMTP_PASSWORD} and ${HOOK_SECRET}."""
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)


@pytest.fixture
def world(site: Any, database_url: str) -> World:
    """The seed list on a loopback site, on each database backend."""
    return World(site, database_url)
