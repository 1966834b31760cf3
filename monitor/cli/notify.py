"""Commands over the digests: notify (deliver, or --test), digest --preview, deliveries."""

from __future__ import annotations

import sys
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import click

# The outbox's states name --status's choices: SQLAlchemy loads for these three commands only.
from store.outbox import STATUSES

from monitor.errors import ConfigError, NotifyError
from monitor.inert import visible
from monitor.localtime import local_time
from monitor.cli.options import clean_errors, config_option, json_option, loading, print_json

if TYPE_CHECKING:
    from notifiers.outbox import DeliveryRun
    from store.models import Delivery


@click.command()
@click.argument("notifier_id", required=False)
@click.option("--test", is_flag=True, help="Send a test message through NOTIFIER_ID instead (nothing is stored).")
@config_option
@clean_errors
def notify(notifier_id: str | None, test: bool, config_path: str) -> None:
    """Write the digests owed now and send every due delivery (one notifier, or all).

    With --test, send a test message and say whether it went through; the exit code is
    1 when it did not. A digest that fails to send stays in the outbox (see `deliveries`).

    \b
    Example:
      sesaku-monitor notify --test team-mail
    """
    with loading():
        from monitor.config import load_config
        from monitor.runtime.check import open_store, utc_now
        from notifiers.outbox import deliver_notifier, send_test

        config = load_config(config_path)
    if test:
        if notifier_id is None:
            raise ConfigError("--test needs the NOTIFIER_ID to send through")
        message = send_test(config, utc_now(), config.notifier(notifier_id).id)
        click.echo(f"{notifier_id}: test message sent: {message.subject}")
        return
    sessions = open_store(config)
    ids = [config.notifier(notifier_id).id] if notifier_id else [n.id for n in config.notifiers]
    runs = [deliver_notifier(config, sessions, utc_now(), i) for i in ids]
    for run in runs:
        _echo_run(run)
    if any(run.failed for run in runs):
        sys.exit(1)


def _echo_run(run: DeliveryRun) -> None:
    parts = [f"{len(run.prepared)} digest(s) written", f"{len(run.sent)} sent"]
    parts += [f"delivery {delivery_id} failed: {error}" for delivery_id, error in run.failed]
    click.echo(visible(f"{run.notifier_id}: " + "; ".join(parts)))


@click.command()
@click.argument("notifier_id")
@click.option("--preview", "preview_flag", is_flag=True, help="Print the next digest without sending or storing anything (required).")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text", show_default=True)
@config_option
@clean_errors
def digest(notifier_id: str, preview_flag: bool, fmt: str, config_path: str) -> None:
    """Show what the next digest of a notifier would contain (changes nothing).

    \b
    Example:
      sesaku-monitor digest --preview team-mail --format html > next.html
    """
    if not preview_flag:
        raise ConfigError("digest: only --preview is offered (digests are sent by `check` and `notify`)")
    with loading():
        from monitor.config import load_config
        from monitor.runtime.check import open_store, utc_now
        from notifiers.outbox import preview

        config = load_config(config_path)
    _, message = preview(config, open_store(config), utc_now(), notifier_id)
    if message is None:
        click.echo(f"{notifier_id}: nothing to send (no new events since the last digest)")
        return
    if fmt == "json":
        print_json(message.json)
    elif fmt == "html":
        click.echo(message.html)
    else:
        click.echo(f"Subject: {message.subject}\n\n{message.text}")


@click.command()
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Only deliveries in this state (repeatable).")
@click.option("--notifier", "notifier_id", metavar="ID", help="Only this notifier's deliveries.")
@click.option("--limit", default=50, show_default=True, help="How many of the newest deliveries.")
@click.option("--retry", "retry_id", type=int, metavar="ID", help="Send this failed (or due) delivery now.")
@config_option
@json_option
@clean_errors
def deliveries(statuses: tuple[str, ...], notifier_id: str | None, limit: int, retry_id: int | None, config_path: str, as_json: bool) -> None:
    """The outbox: digests sent, pending (with their next try) and failed, with their errors.

    \b
    Example:
      sesaku-monitor deliveries --status failed
      sesaku-monitor deliveries --retry 12
    """
    with loading():
        from monitor.config import load_config
        from monitor.runtime.check import open_store, utc_now
        from notifiers.outbox import retry_delivery
        from store.database import transaction
        from store.outbox import deliveries as outbox_rows

        config = load_config(config_path)
    sessions = open_store(config)
    if retry_id is not None:
        run = retry_delivery(config, sessions, utc_now(), retry_id)
        if run.failed:
            raise NotifyError(f"delivery {retry_id} failed again: {run.failed[0][1]}")
        click.echo(f"delivery {retry_id} sent")
        return
    with transaction(sessions) as session:
        rows = outbox_rows(session, statuses=statuses, notifier_id=notifier_id, limit=limit)
    if as_json:
        print_json([_row_json(row) for row in rows])
    elif not rows:
        click.echo("no deliveries")
    for row in [] if as_json else rows:
        click.echo(_row_text(row, config.tz))


def _row_json(row: Delivery) -> dict[str, Any]:
    return {
        "id": row.id, "notifier_id": row.notifier_id, "status": row.status, "created_at": row.created_at,
        "event_count": row.event_count, "first_event_id": row.first_event_id, "last_event_id": row.last_event_id,
        "attempts": row.attempts, "next_attempt_at": row.next_attempt_at, "sent_at": row.sent_at,
        "last_error": row.last_error, "idempotency_key": row.idempotency_key, "subject": (row.payload or {}).get("subject"),
    }


def _row_text(row: Delivery, tz: tzinfo) -> str:
    when = {"sent": f"sent {local_time(row.sent_at, tz)}", "pending": f"next try {local_time(row.next_attempt_at, tz)}", "failed": "gave up"}.get(row.status, "")
    line = f"#{row.id} {row.notifier_id} {row.status}: {row.event_count} event(s), {row.attempts} attempt(s), created {local_time(row.created_at, tz)}, {when}"
    return line + (f"\n    error: {visible(row.last_error)}" if row.last_error else "")
