"""The daemon's digests and log lines, as a user runs it: one digest per wave, lines that say what happened."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from monitor.config import load_config
from monitor.demo.site import Route
from monitor.runtime.check import open_store, run_check
from store.database import transaction
from store.models import Event, JobState
from tests.conftest import TAMA, seed_text, source_entry
from tests.notifiers.servers import Receiver
from tests.notifiers.world import HOOK_SECRET, webhook_notifier
from tests.runtime.harness import HERE, DaemonProcess, write_config
from tests.versions import derive, set_cell

import yaml

# Three lists whose runs end at different moments of one wave (the site answers each this late).
DELAYS = {"a": 0.2, "b": 1.5, "c": 3.0}
SETTLE_S = 2


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)  # the daemon's environment names it as ${HOOK_SECRET}
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def publish_all(site, text: str) -> None:
    for name, delay in DELAYS.items():
        site.publish(f"/{name}.txt", Route(text.encode(), content_type="text/plain", delay_s=delay))


def test_a_wave_across_three_lists_is_one_digest_of_a_new_notifier_and_the_log_says_what_changed(tmp_path, site, database_url, receiver):
    publish_all(site, seed_text(TAMA))
    entries = [source_entry(name, site.url(f"/{name}.txt"), title=f"リスト{name}") for name in DELAYS]
    config = write_config(tmp_path / "config.yaml", database_url, entries, sources={"every": "10s"})
    loaded = load_config(config)
    sessions = open_store(loaded)
    run_check(loaded, sessions)  # the baseline of all three, then a change: history before any notifier
    publish_all(site, derive(seed_text(TAMA), set_cell(0, "土地区画整理事業", 3, "03-5320-0000")))
    run_check(loaded, sessions)
    with transaction(sessions) as session:
        history = session.scalar(select(func.max(Event.id)))
        # The daemon's first runs would keep the rhythm of these runs, one after the other: a run here
        # slower by more than settle_s (at load) put that gap between two of the daemon's runs, two waves
        # and, rightly, two digests. Owed a run, the three start together: one wave, whatever the load.
        for state in session.scalars(select(JobState).where(JobState.job_id.like("source:%"))):
            state.last_success_at = state.last_success_at - timedelta(hours=1)

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["notifiers"] = [webhook_notifier(receiver.base + "/hook", settle_s=SETTLE_S, language="en")]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    publish_all(site, derive(seed_text(TAMA), set_cell(0, "土地区画整理事業", 3, "03-5320-1111")))
    daemon = DaemonProcess(config)
    try:
        for name in DELAYS:
            daemon.wait_for("job_ok", job=f"source:{name}", timeout=30)
        sent = daemon.wait_for("job_ok", job="notifier:hook", result="sent", timeout=SETTLE_S + 15)
        time.sleep(11)  # the next wave (nothing new) and its settling: no second digest
        assert len(receiver.requests) == 1, daemon.log()
        (path, _, body) = receiver.requests[0]
        digest = json.loads(body)
        assert sorted(source["id"] for source in digest["sources"]) == ["a", "b", "c"]
        assert digest["counts"] == {"changed": 3} and min(digest["event_ids"]) > history  # the new notifier sends no history

        # The log says what changed and what was sent, never "None", and no catch-up after the start.
        first = daemon.find("job_ok", job="source:c")[0]
        assert first["msg"].endswith("changed: 1 changed (44 records)") and first["counts"] == {"changed": 1}
        assert sent["msg"].endswith("notifier hook: delivery 1 written (3 events); delivery 1 sent (3 events)")
        assert not [line for line in daemon.lines if "None" in line]
        assert len(daemon.find("catch_up")) <= 1
        assert daemon.stop()[0] == 0
    except AssertionError:
        print("".join(daemon.lines)[-20000:])
        raise
    finally:
        daemon.kill()


def test_a_host_whose_links_fall_due_is_run_without_a_catch_up_line(tmp_path, site):
    rows = "".join(f"施策{n}\t概要\t部{n}\t03\t{site.url(f'/page{n}')}\t\n" for n in range(3))
    site.publish("/list.txt", Route(("施策\t施策概要\t担当部署\t連絡先\tURL\t備考\n" + rows).encode(), content_type="text/plain"))
    for n in range(3):
        site.publish(f"/page{n}", Route(b"<html><body>page</body></html>", content_type="text/html"))
    config = write_config(tmp_path / "config.yaml", f"sqlite:///{tmp_path / 'monitor.db'}", [source_entry("mini", site.url("/list.txt"))],
                          sources={"every": "1h"})
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["links"] = {"enabled": True}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    daemon = DaemonProcess(config, prelude=[str(HERE / "fast_replan.py")])
    try:
        daemon.wait_for("job_ok", job="source:mini")
        links = daemon.wait_for("job_ok", job="links:127.0.0.1", timeout=30)  # planned by a replan, after the list's first run
        assert links["msg"].endswith("3 links checked") and links["checked"] == 3
        time.sleep(2.5)  # a few more replans
        started = daemon.find("started")[0]
        # The list, and the daily reconcile of links' cited marks (owed its first run): never the host.
        assert [e["jobs"] for e in daemon.find("catch_up")] == [["source:mini", "citations:links"]] and started["catch_up"] == 2, daemon.log()
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
