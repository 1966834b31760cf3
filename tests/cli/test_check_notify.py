"""`check` says what it sent, and `--no-notify` leaves the digest to the next `notify`."""

from __future__ import annotations

import json

import yaml

from monitor.demo.site import Route
from tests.cli.test_cli import run
from tests.conftest import TAMA, seed_text, source_entry
from tests.runtime.test_check import publish
from tests.versions import derive, set_cell

HOOK = "/hooks/digest"


def _edit(site, phone: str) -> None:
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, "土地区画整理事業", 3, phone)))


def _digests(site) -> list[dict]:
    return [json.loads(body) for path, _, body in site.received if path == HOOK]


def test_check_reports_the_digests_it_sent_and_no_notify_sends_none(tmp_path, site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    site.publish(HOOK, Route(b"", status=204))
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True},
              "sources": [source_entry("tama", site.url("/tama.txt"))],
              "notifiers": [{"id": "hook", "type": "webhook", "options": {"url": site.url(HOOK), "allow_private_address": True}}]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    baseline = json.loads(run("check", "--no-links", "--json", cwd=tmp_path).stdout)
    assert baseline["notifiers"] == [{"id": "hook", "written": 0, "sent": 0, "failed": [], "error": None}]

    _edit(site, "03-5320-0001")
    quiet = run("check", "--no-links", "--no-notify", "--json", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert json.loads(quiet.stdout)["notifiers"] is None and _digests(site) == []
    assert run("notify", cwd=tmp_path).returncode == 0
    assert len(_digests(site)) == 1  # the events waited, and went out once

    _edit(site, "03-5320-0002")
    told = run("check", "--no-links", cwd=tmp_path)
    assert told.returncode == 0, told.stderr
    assert "notify hook: 1 digest written, 1 sent" in told.stdout
    assert len(_digests(site)) == 2 and "03-5320-0002" in json.dumps(_digests(site)[-1], ensure_ascii=False)
