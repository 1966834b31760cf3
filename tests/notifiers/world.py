"""A small world for the outbox tests: the seed list on a loopback site, a config with notifiers.

The fixtures over it (``world``, and the secrets in the environment) are in conftest.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from typing import Any

from sqlalchemy import Connection, insert, select

from monitor.runtime.check import open_store, run_check
from monitor.config import Config
from store.database import transaction
from store.models import Delivery, Event
from tests.notifiers.servers import Receiver
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.runtime.test_check import T0, clock, publish
from tests.versions import derive, set_cell

SMTP_PASSWORD = "s3cret-pw"
HOOK_SECRET = "whsec-outbox-7f3a9c"
HOOK_TOKEN = "T0KEN-in-the-path-9x"
RENAMED = ("多摩の魅力発信プロジェクト", "多摩の魅力発信プロジェクト2026")


def email_notifier(port: int, **overrides: Any) -> dict[str, Any]:
    options = {
        "smtp_host": "127.0.0.1", "smtp_port": port, "security": "none", "username": "monitor", "password": "${SMTP_PASSWORD}",
        "sender": "施策モニター <monitor@example.jp>", "recipients": ["team@example.jp"], "timeout_s": 3,
    }
    return {"id": "team-mail", "type": "email", "options": options} | overrides


def webhook_notifier(url: str, **overrides: Any) -> dict[str, Any]:
    options = {"url": url, "secret": "${HOOK_SECRET}", "timeout_s": 3, "allow_private_address": True}  # a loopback receiver
    return {"id": "hook", "type": "webhook", "options": options} | overrides


def revise(site: Any) -> None:
    """The list as revised: one measure renamed, one contact changed (two events)."""
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, RENAMED[0], 0, RENAMED[1]), set_cell(0, "土地区画整理事業", 3, "03-5320-0000")))


class World:
    """The loopback site with the seed list, and a config over it with the given notifiers."""

    def __init__(self, site: Any, database_url: str) -> None:
        self.site, self.database_url = site, database_url
        self.tick = clock()
        publish(site, "/tama.txt", seed_text(TAMA))

    def config(self, *notifiers: dict[str, Any]) -> tuple[Config, Any]:
        config = make_config(self.database_url, source_entry("tama", self.site.url("/tama.txt")), notifiers=list(notifiers))
        return config, open_store(config)

    def baseline_then_revision(self, config: Config, sessions: Any) -> None:
        run_check(config, sessions, clock=self.tick)
        revise(self.site)
        run_check(config, sessions, clock=self.tick)


def rows(sessions: Any) -> list[Delivery]:
    with transaction(sessions) as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def later(minutes: float) -> datetime:
    """A moment well after the test's runs (the clock of ``World`` counts minutes from T0)."""
    return T0 + timedelta(days=1, minutes=minutes)


def add_event(connection: Connection, name: str, source_id: str | None = "tama") -> int:
    """An event written straight into ``events`` (as a run would), on ``connection``: its id."""
    values = {"created_at": T0, "kind": "added", "source_id": source_id, "payload": {"key": name, "name": name, "fields": {}}}
    return int(connection.execute(insert(Event).values(values).returning(Event.id)).scalar_one())


def delivered_ids(receiver: Receiver) -> list[int]:
    """The ids of every event the webhook receiver has been sent, in the order sent."""
    return [event_id for _, _, body in receiver.requests for event_id in json.loads(body)["event_ids"]]
