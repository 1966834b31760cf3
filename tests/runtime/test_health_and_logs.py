"""The health verdict (pure), its HTTP endpoint, and log lines that never carry a secret."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from monitor.runtime.health import Health, HealthServer, assess
from monitor.runtime.logs import JsonFormatter, TextFormatter
from monitor.secrets import redact
from monitor.schedule import ScheduleSpec
from store.models import JobState

UTC = timezone.utc
NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)
JOBS = [("source:a", ScheduleSpec(every="1h")), ("source:b", ScheduleSpec(every="1h"))]


def states(**started_minutes_ago: int) -> dict[str, JobState]:
    return {f"source:{k}": JobState(job_id=f"source:{k}", last_started_at=NOW - timedelta(minutes=m), last_success_at=NOW - timedelta(minutes=m)) for k, m in started_minutes_ago.items()}


def verdict(found: dict[str, JobState], *, alive: bool = True, started_at: datetime = NOW - timedelta(days=1)) -> Health:
    return assess(JOBS, found, alive=alive, started_at=started_at, now=NOW, tz=UTC, slack=timedelta(0))


def test_the_verdict():
    ok = verdict(states(a=30, b=119))
    assert ok.http_status == 200 and ok.body["status"] == "ok" and ok.body["jobs"]["source:a"]["period_s"] == 3600
    stale = verdict(states(a=30, b=121))
    assert stale.http_status == 503 and stale.body["stale"] == ["source:b"] and stale.body["jobs"]["source:b"]["stale"]
    assert verdict(states(a=1, b=1), alive=False).body["status"] == "stopped"
    assert verdict({}, started_at=NOW - timedelta(minutes=5)).ok  # just started: nothing has had time to run
    assert not verdict({}, started_at=NOW - timedelta(hours=3)).ok


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_endpoint_answers_on_loopback():
    answers = iter([verdict(states(a=1, b=1)), verdict(states(a=1, b=500))])

    def broken() -> Health:
        raise RuntimeError("database gone")
    server = HealthServer(0, lambda: next(answers)).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert get(base + "/health")[0] == 200
        status, body = get(base + "/healthz")
        assert status == 503 and body["stale"] == ["source:b"]
        assert get(base + "/metrics")[0] == 404
        server._server.check = broken
        assert get(base + "/health") == (503, {"status": "error", "error": "RuntimeError: database gone"})
    finally:
        server.stop()


@pytest.mark.parametrize(("text", "shown"), [
    ("postgresql+psycopg://monitor:s3cret@db/monitor", "postgresql+psycopg://monitor:***@db/monitor"),
    ("https://hooks.example/x?token=abc123&mode=1", "https://hooks.example/x?token=***&mode=1"),
    ("smtp://user:p%40ss@mail:587 and https://h/p?api_key=zzz", "smtp://user:***@mail:587 and https://h/p?api_key=***"),
    ("https://example.jp/a?page=2", "https://example.jp/a?page=2"),
])
def test_redact(text, shown):
    assert redact(text) == shown


def record(message: str, *args, **extra) -> logging.LogRecord:
    item = logging.LogRecord("sesaku_monitor.daemon", logging.INFO, __file__, 1, message, args, None)
    item.__dict__.update(extra)
    return item


def test_json_and_text_lines_carry_the_extras_and_no_secret():
    line = JsonFormatter().format(record("opened %s", "postgresql://u:pw@h/d", event="started", jobs=3))
    data = json.loads(line)
    assert (data["msg"], data["event"], data["jobs"], data["level"]) == ("opened postgresql://u:***@h/d", "started", 3, "info")
    assert "\n" not in line
    text = TextFormatter().format(record("reloaded", event="reloaded", database="sqlite:///x.db?password=x"))
    assert text.endswith("reloaded event=reloaded database=sqlite:///x.db?password=***")


def test_text_lines_leave_out_fields_without_a_value():
    record = logging.LogRecord("sesaku_monitor.daemon", logging.INFO, "", 0, "job links:example.jp ok in 0.20s: 3 links checked", None, None)
    record.job, record.result, record.counts = "links:example.jp", None, {"dead": 0}
    line = TextFormatter().format(record)
    assert line.endswith("3 links checked job=links:example.jp counts={'dead': 0}") and "None" not in line
