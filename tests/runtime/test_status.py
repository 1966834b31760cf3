"""``status`` from the database, as data, as JSON and as rich tables, on both backends."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import yaml
from click.testing import CliRunner

from monitor.runtime.check import open_store
from monitor.cli import cli
from monitor.runtime.jobs import run_source_job
from monitor.runtime.status import read_status
from store.database import engine_of, transaction
from store.models import Delivery, Link
from tests.conftest import NATIONWIDE, TAMA, make_config, seed_text, source_entry
from tests.runtime.test_check import publish

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)


def _outbox_and_links(sessions) -> None:
    with transaction(sessions) as session:
        session.add(Link(url="https://gone.example/a", host="gone.example", first_seen_at=T0, cited=True, consecutive_failures=3, dead_since=T0))
        session.add(Link(url="https://ok.example/b", host="ok.example", first_seen_at=T0, cited=True, consecutive_failures=0))
        for index, state in enumerate(["sent", "sent", "pending"]):
            session.add(Delivery(notifier_id="mail", created_at=T0, status=state, event_count=1, attempts=1, idempotency_key=f"k{index}", payload={}))


def test_status_reads_runs_failures_links_and_outbox(site, database_url, tmp_path):
    publish(site, "/tama.txt", seed_text(TAMA))
    publish(site, "/nationwide.txt", seed_text(NATIONWIDE))
    entries = [source_entry("tama", site.url("/tama.txt")), source_entry("nationwide", site.url("/nationwide.txt"), schedule={"every": "2h"})]
    config = make_config(database_url, *entries)
    sessions = open_store(config)
    run_source_job(config, sessions, T0, "tama")
    run_source_job(config, sessions, T0, "nationwide")
    site.remove("/nationwide.txt")
    for hours in (2, 4):
        run_source_job(config, sessions, T0 + timedelta(hours=hours), "nationwide")
    _outbox_and_links(sessions)

    found = read_status(config, engine_of(sessions), T0 + timedelta(hours=5))
    tama, nationwide = found.sources
    assert (tama.last_status, tama.consecutive_failures, tama.schedule, tama.due) == ("baseline", 0, "every 6h", False)
    assert tama.next_run_at == T0 + timedelta(hours=6)
    assert (nationwide.last_status, nationwide.consecutive_failures, nationwide.failing_since) == ("failed", 2, T0 + timedelta(hours=2))
    assert nationwide.next_run_at == T0 + timedelta(hours=6) and "HTTP 404" in nationwide.last_error
    # the 30 URLs tama cites, and two more; the dead one is dead, not also failing (as in `links`)
    assert found.links == {"cited": 32, "dead": 1, "failing": 0}
    assert found.outbox == {"sent": 2, "pending": 1}

    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"database": {"url": database_url}, "sources": entries}, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()
    as_json = runner.invoke(cli, ["status", "--json", "--config", str(tmp_path / "config.yaml")])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert [s["consecutive_failures"] for s in data["sources"]] == [0, 2] and data["links"]["dead"] == 1
    assert data["sources"][0]["last_success_at"] == T0.isoformat()
    table = runner.invoke(cli, ["status", "--config", str(tmp_path / "config.yaml")], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "nationwide" in table.output and "every 2h" in table.output and "due now" in table.output
    assert "1 dead" in table.output and "2 sent" in table.output and "1 pending" in table.output


def test_status_of_a_new_database_says_never(database_url, tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"database": {"url": database_url}, "sources": [source_entry("tama", "http://127.0.0.1:9/x")]}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["status", "--config", str(tmp_path / "config.yaml")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "never" in result.output and "due now" in result.output and "outbox: empty" in result.output
