"""notify, digest --preview and deliveries through the installed console script, as a user runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.controller import Controller

from tests.conftest import source_entry
from tests.notifiers.servers import Inbox, Receiver, free_port
from tests.notifiers.world import World, email_notifier, revise, webhook_notifier
from tests.cli.test_cli import run

# What a process does when it is killed after writing a delivery and before sending it.
PREPARE_THEN_DIE = """
import os, signal, sys
from datetime import datetime, timezone
from monitor.runtime.check import open_store
from monitor.config import load_config
from notifiers.outbox import prepare_delivery
config = load_config("config.yaml")
delivery_id, _ = prepare_delivery(config, open_store(config), datetime.now(timezone.utc), sys.argv[1])
print(delivery_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def write_config(tmp_path: Path, world: World, *notifiers: dict[str, Any]) -> Path:
    config = {"database": {"url": world.database_url}, "http": {"allow_private_addresses": True},
              "sources": [source_entry("tama", world.site.url("/tama.txt"))], "notifiers": list(notifiers)}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_notify_test_says_whether_it_went_through(world: World, tmp_path: Path, smtp_server: tuple[Controller, Inbox]) -> None:
    controller, inbox = smtp_server
    workdir = write_config(tmp_path, world, email_notifier(controller.port), email_notifier(free_port(), id="down"))
    sent = run("notify", "--test", "team-mail", cwd=workdir)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("team-mail: test message sent: [TEST] [sesaku-monitor]")
    (mail,) = inbox.messages()
    assert mail["Subject"].startswith("[TEST] ") and mail["To"] == "team@example.jp"

    down = run("notify", "--test", "down", cwd=workdir)
    assert down.returncode == 1
    assert down.stderr.strip().splitlines() == [f"sesaku-monitor: error: cannot reach SMTP server 127.0.0.1:{down_port(workdir)}: Connection refused"]
    unknown = run("notify", "--test", "nobody", cwd=workdir)
    assert unknown.returncode == 2 and "no notifier with id 'nobody' (configured: team-mail, down)" in unknown.stderr


def down_port(workdir: Path) -> int:
    config = yaml.safe_load((workdir / "config.yaml").read_text(encoding="utf-8"))
    return next(n["options"]["smtp_port"] for n in config["notifiers"] if n["id"] == "down")


def test_digest_preview_shows_the_next_digest_and_changes_nothing(world: World, tmp_path: Path, receiver: Receiver) -> None:
    # A daily digest, not due during this test: the events wait for it.
    workdir = write_config(tmp_path, world, webhook_notifier(receiver.base + "/daily", schedule={"cron": "0 8 * * *"}, language="en"))
    assert run("check", "--no-links", cwd=workdir).returncode == 0
    assert "hook: nothing to send" in run("digest", "--preview", "hook", cwd=workdir).stdout
    revise(world.site)
    assert run("check", "--no-links", cwd=workdir).returncode == 0

    text = run("digest", "--preview", "hook", cwd=workdir)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Subject: [sesaku-monitor] 多摩のまちづくり 戦略2: Renamed 1") and "03-5320-0000" in text.stdout
    payload = json.loads(run("digest", "--preview", "hook", "--format", "json", cwd=workdir).stdout)
    assert payload["counts"] == {"renamed": 1, "changed": 1}
    assert "<table" in run("digest", "--preview", "hook", "--format", "html", cwd=workdir).stdout
    assert run("deliveries", cwd=workdir).stdout.strip() == "no deliveries"
    assert receiver.requests == []
    again = json.loads(run("digest", "--preview", "hook", "--format", "json", cwd=workdir).stdout)
    assert again["event_ids"] == payload["event_ids"]  # nothing was consumed
    assert run("digest", "hook", cwd=workdir).returncode == 2  # --preview is the only mode


def test_deliveries_lists_failed_ones_with_errors_and_retry_sends_them(world: World, tmp_path: Path, receiver: Receiver) -> None:
    receiver.fail_with = 500
    workdir = write_config(tmp_path, world, webhook_notifier(receiver.base + "/hook", max_attempts=1))
    run("check", "--no-links", cwd=workdir)
    revise(world.site)
    run("check", "--no-links", cwd=workdir)

    (row,) = json.loads(run("deliveries", "--json", cwd=workdir).stdout)
    assert (row["status"], row["attempts"], row["event_count"]) == ("failed", 1, 2)
    assert row["last_error"] == f'webhook {receiver.base} answered HTTP 500: {{"error": "no_service"}}'
    listed = run("deliveries", "--status", "failed", cwd=workdir).stdout
    assert f"#{row['id']} hook failed: 2 event(s), 1 attempt(s)" in listed and "error: webhook" in listed
    assert run("deliveries", "--status", "sent", cwd=workdir).stdout.strip() == "no deliveries"

    again = run("deliveries", "--retry", str(row["id"]), cwd=workdir)
    assert again.returncode == 1 and "failed again: webhook" in again.stderr
    receiver.fail_with = None
    retried = run("deliveries", "--retry", str(row["id"]), cwd=workdir)
    assert retried.returncode == 0 and retried.stdout.strip() == f"delivery {row['id']} sent"
    twice = run("deliveries", "--retry", str(row["id"]), cwd=workdir)
    assert twice.returncode == 2 and "was already sent" in twice.stderr
    assert len(receiver.requests) == 3
    (row,) = json.loads(run("deliveries", "--json", cwd=workdir).stdout)
    assert (row["status"], row["last_error"]) == ("sent", None)


def test_a_process_killed_after_writing_the_delivery_leaves_it_for_the_next_run(
    world: World, tmp_path: Path, smtp_server: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp_server
    # The checks write events only (no notifier yet); the notifier is configured afterwards,
    # with a since: before them (without it, it would start after them).
    workdir = write_config(tmp_path, world)
    run("check", "--no-links", cwd=workdir)
    revise(world.site)
    run("check", "--no-links", cwd=workdir)
    write_config(tmp_path, world, email_notifier(controller.port, since="2000-01-01"))

    killed = subprocess.run([sys.executable, "-c", PREPARE_THEN_DIE, "team-mail"], cwd=workdir, capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL and killed.stdout.strip().isdigit(), killed.stderr
    assert inbox.envelopes == []
    (row,) = json.loads(run("deliveries", "--json", cwd=workdir).stdout)
    assert (row["status"], row["attempts"]) == ("pending", 0)

    first = run("notify", cwd=workdir)
    assert first.returncode == 0 and first.stdout.strip() == "team-mail: 0 digest(s) written; 1 sent"
    assert run("notify", cwd=workdir).stdout.strip() == "team-mail: 0 digest(s) written; 0 sent"
    assert run("check", "--no-links", cwd=workdir).returncode == 0
    assert len(inbox.envelopes) == 1

