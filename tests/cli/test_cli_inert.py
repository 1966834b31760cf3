"""The console script prints what a list says literally: no rich markup, no raw control character."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.conftest import TAMA, seed_text, source_entry
from tests.runtime.test_check import publish
from tests.cli.test_cli import run
from tests.versions import derive, find_row, set_cell

HOSTILE = "[/bold]x\x1b[31m\x07"
SHOWN = "[/bold]x\\x1b[31m\\x07"
STYLED = "[bold red]X[/bold red]"
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Wide enough that the status table's last column is not folded away.
WIDE = {"COLUMNS": "400"}


@pytest.fixture
def hostile(tmp_path, site, database_url):
    """A baseline, then a list with two measures renamed to markup, then one whose header is markup."""
    publish(site, "/tama.txt", seed_text(TAMA))
    # Sent on a schedule, not after each run: its digest stays unwritten for --preview to show.
    notifier = {"id": "team", "type": "webhook", "schedule": {"cron": "0 8 1 1 *"}, "options": {"url": "http://127.0.0.1:9/hook"}}
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True},
              "sources": [source_entry("tama", site.url("/tama.txt"))], "notifiers": [notifier]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert run("check", "--no-links", cwd=tmp_path).returncode == 0
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, "土地区画整理事業", 0, HOSTILE), set_cell(0, "多摩の魅力発信プロジェクト", 0, STYLED)))
    return tmp_path


def _literal(result, *texts: str) -> None:
    assert result.returncode in (0, 3), result.stderr
    assert "Traceback" not in result.stderr and "MarkupError" not in result.stderr
    for text in texts:
        assert text in result.stdout, result.stdout
    assert not RAW_CONTROL.search(result.stdout)


def test_check_history_and_diff_print_a_measure_named_with_markup_literally(hostile, site):
    report = run("check", "--no-links", "--json", cwd=hostile)
    added = {entry["name"]: entry["measure_id"] for entry in json.loads(report.stdout)["sources"][0]["added"]}
    history = run("history", str(added[HOSTILE]), cwd=hostile)
    _literal(history, SHOWN)
    assert history.returncode == 0
    _literal(run("history", str(added[STYLED]), cwd=hostile), STYLED)
    snapshots = [s["id"] for s in json.loads(run("snapshots", "tama", "--json", cwd=hostile).stdout)]
    _literal(run("diff", "tama", "--from", str(snapshots[1]), "--to", str(snapshots[0]), cwd=hostile), SHOWN, STYLED)
    _literal(run("digest", "team", "--preview", "--format", "text", cwd=hostile), SHOWN, STYLED)


def _markup_header_and_other_values(rows: list[list[str]]) -> None:
    """The 施策 header becomes markup and its values others: no column rename, a missing column."""
    header = find_row(rows, 0, "施策")
    rows[header][0] = HOSTILE
    for n, row in enumerate(rows[header + 1:]):
        if row:
            row[0] = f"行{n}"


def test_status_and_check_print_an_error_that_quotes_markup_literally(hostile, site):
    publish(site, "/tama.txt", derive(seed_text(TAMA), _markup_header_and_other_values))
    _literal(run("check", "--no-links", cwd=hostile), SHOWN)
    status = run("status", cwd=hostile, env=WIDE)
    _literal(status, SHOWN)
    assert status.returncode == 0
