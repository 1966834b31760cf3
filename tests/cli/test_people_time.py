"""One clock for people: CLI text shows times in the config's `timezone` with the zone's name; JSON keeps ISO 8601 with offset."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import yaml
from rich.console import Console

from monitor.cli.linktext import print_dead, print_link_history
from monitor.localtime import local_time
from tests.cli.test_cli import run
from tests.conftest import TAMA, seed_text, source_entry
from tests.runtime.test_check import publish
from tests.versions import derive, set_cell

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")
WIDE = {"COLUMNS": "400"}


def _as_people_read(iso: str, zone: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _workdir(tmp_path, site, database_url, zone: str | None, change: bool = True):
    publish(site, "/tama.txt", seed_text(TAMA))
    # Sent after each run, to a closed loopback port: the change leaves a delivery waiting for its next try.
    notifier = {"id": "team", "type": "webhook", "options": {"url": "http://127.0.0.1:9/hook", "allow_private_address": True}}
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True},
              "sources": [source_entry("tama", site.url("/tama.txt"))], "notifiers": [notifier], **({"timezone": zone} if zone else {})}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert run("check", "--no-links", cwd=tmp_path).returncode == 0
    if not change:
        return None
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, "土地区画整理事業", 3, "03-5320-0000")))
    changed = json.loads(run("check", "--no-links", "--json", cwd=tmp_path).stdout)
    return changed["sources"][0]["changed"][0]["measure_id"]


def test_snapshots_history_status_and_deliveries_speak_tokyo_time_by_default(tmp_path, site, database_url):
    measure_id = _workdir(tmp_path, site, database_url, zone=None)
    snapshots = json.loads(run("snapshots", "tama", "--json", cwd=tmp_path).stdout)
    assert all(ISO_WITH_OFFSET.match(s["fetched_at"]) for s in snapshots)
    text = run("snapshots", "tama", cwd=tmp_path, env=WIDE).stdout
    for snapshot in snapshots:
        assert _as_people_read(snapshot["fetched_at"], "Asia/Tokyo") in text and text.count(" JST") >= len(snapshots)

    history = json.loads(run("history", str(measure_id), "--json", cwd=tmp_path).stdout)
    shown = run("history", str(measure_id), cwd=tmp_path, env=WIDE).stdout
    assert f"first seen {_as_people_read(history['first_seen_at'], 'Asia/Tokyo')}" in shown
    assert _as_people_read(history["versions"][-1]["valid_from"], "Asia/Tokyo") in shown

    status = run("status", cwd=tmp_path, env=WIDE)
    assert status.returncode == 0, status.stderr
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d JST", status.stdout), status.stdout
    (delivery,) = json.loads(run("deliveries", "--json", cwd=tmp_path).stdout)
    assert ISO_WITH_OFFSET.match(delivery["created_at"])
    listed = run("deliveries", cwd=tmp_path).stdout
    assert f"created {_as_people_read(delivery['created_at'], 'Asia/Tokyo')}" in listed
    assert f"next try {_as_people_read(delivery['next_attempt_at'], 'Asia/Tokyo')}" in listed


def test_the_configured_timezone_is_the_one_shown(tmp_path, site, database_url):
    _workdir(tmp_path, site, database_url, zone="America/New_York", change=False)
    (latest, *_) = json.loads(run("snapshots", "tama", "--json", cwd=tmp_path).stdout)
    expected = _as_people_read(latest["fetched_at"], "America/New_York")
    assert expected.endswith((" EST", " EDT")) and expected in run("snapshots", "tama", cwd=tmp_path, env=WIDE).stdout


def test_dead_links_and_a_links_checks_are_shown_in_the_zone():
    console = Console(record=True, width=200)
    tokyo = ZoneInfo("Asia/Tokyo")
    print_dead(console, [{"since": "2026-12-01T08:29:00+00:00", "outcome": "not_found", "http_status": 404, "url": "https://www.metro.tokyo.lg.jp/x.html", "measures": []}], tokyo)
    print_link_history(console, {"url": "https://www.metro.tokyo.lg.jp/x.html", "since": "2026-12-01T08:29:00+00:00", "cited": True, "outcome": "not_found", "moved_to": None,
                                 "checks": [{"checked_at": "2026-12-01T08:29:41+00:00", "outcome": "not_found", "http_status": 404, "final_url": None, "elapsed_ms": 12, "error": None}]}, tokyo)
    shown = console.export_text()
    assert "dead since 2026-12-01 17:29 JST" in shown and shown.count("2026-12-01 17:29 JST") == 3


def test_local_time_reads_the_stores_naive_utc_and_iso_strings():
    tokyo = ZoneInfo("Asia/Tokyo")
    assert local_time(datetime(2026, 12, 1, 8, 29), tokyo) == "2026-12-01 17:29 JST"
    assert local_time(datetime(2026, 12, 1, 8, 29, tzinfo=timezone.utc), ZoneInfo("Europe/London")) == "2026-12-01 08:29 GMT"
    assert local_time("2026-06-30T23:30:00+00:00", tokyo) == "2026-07-01 08:30 JST"
    assert (local_time(None, tokyo), local_time(None, tokyo, missing="now")) == ("-", "now")
