"""80 columns and a pipe (cron mail, `| less`): what the output is for is never cut.

Real subprocesses with COLUMNS=80 and stdout a pipe: `history` shows a changed field's whole old
and new values, `status` a source's whole error, `snapshots` the ids and times `diff --from` needs;
every listing takes `--format json|text` (`--json` stays as its alias).
"""

from __future__ import annotations

import json
import re

import yaml

from tests.cli.test_cli import run
from tests.cli.test_people_time import _as_people_read
from tests.conftest import TAMA, seed_text, source_entry
from tests.runtime.test_check import publish
from tests.versions import derive, set_cell

NARROW = {"COLUMNS": "80"}
MEASURE = "土地区画整理事業"
OLD_PHONE, NEW_PHONE = "03-5320-1111", "03-5320-9999"
LONG_SUMMARY = ("多摩地域の土地区画整理事業を推進し、道路・公園・下水道などの公共施設を一体的に整備するとともに、"
                "宅地の利用増進を図り、安全で快適な市街地の形成を目指す。あわせて地元の合意形成と事業の早期完了を支援する。")


def _single_line(text: str) -> str:
    """Everything on one line, so a value rich wrapped over lines still reads as one."""
    return re.sub(r"\s*\n\s*", "", text)


def _workdir(tmp_path, site, database_url, broken: bool = False):
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, MEASURE, 3, OLD_PHONE)))
    sources = [source_entry("tama", site.url("/tama.txt"))]
    if broken:
        sources.append(source_entry("gone", "http://127.0.0.1:9/a/very/long/path/that/makes/the/error/text/longer/than/eighty/columns.txt"))
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True}, "sources": sources}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run("check", "--no-links", cwd=tmp_path)
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, MEASURE, 3, NEW_PHONE), set_cell(0, MEASURE, 1, LONG_SUMMARY)))
    report = json.loads(run("check", "--no-links", "--json", cwd=tmp_path).stdout)
    return report["sources"][0]["changed"][0]["measure_id"]


def test_history_at_80_columns_shows_the_whole_old_and_new_values(tmp_path, site, database_url):
    measure_id = _workdir(tmp_path, site, database_url)
    shown = run("history", str(measure_id), cwd=tmp_path, env=NARROW)
    assert shown.returncode == 0, shown.stderr
    assert f"old: {OLD_PHONE}" in shown.stdout and f"new: {NEW_PHONE}" in shown.stdout, shown.stdout
    assert LONG_SUMMARY in _single_line(shown.stdout), shown.stdout
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80 or LONG_SUMMARY in shown.stdout
    as_json = json.loads(run("history", str(measure_id), "--format", "json", cwd=tmp_path).stdout)
    assert as_json == json.loads(run("history", str(measure_id), "--json", cwd=tmp_path).stdout)


def test_status_at_80_columns_shows_the_whole_error(tmp_path, site, database_url):
    _workdir(tmp_path, site, database_url, broken=True)
    found = json.loads(run("status", "--format", "json", cwd=tmp_path).stdout)
    (gone,) = [s for s in found["sources"] if s["id"] == "gone"]
    assert gone["last_error"] and len(gone["last_error"]) > 80
    shown = run("status", cwd=tmp_path, env=NARROW)
    assert shown.returncode == 0, shown.stderr
    assert gone["last_error"] in shown.stdout, shown.stdout


def test_snapshots_at_80_columns_keep_ids_and_full_times(tmp_path, site, database_url):
    _workdir(tmp_path, site, database_url)
    config = yaml.safe_load((tmp_path / "config.yaml").read_text(encoding="utf-8"))
    config["sources"][0]["url"] = site.url("/moved/away/from/here/so/that/the/fetch/fails/with/a/long/error.txt")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run("check", "--no-links", cwd=tmp_path)  # a failed fetch: its error competes for the 80 columns
    listed = json.loads(run("snapshots", "tama", "--format", "json", cwd=tmp_path).stdout)
    assert len(listed) == 3 and listed[0]["error"]
    shown = run("snapshots", "tama", cwd=tmp_path, env=NARROW)
    assert shown.returncode == 0, shown.stderr
    for snapshot in listed:
        assert _as_people_read(snapshot["fetched_at"], "Asia/Tokyo") in shown.stdout, shown.stdout
        assert re.search(rf"(^|\W){snapshot['id']}\W", shown.stdout)


def test_every_listing_takes_format_json_and_text(tmp_path, site, database_url):
    _workdir(tmp_path, site, database_url)
    for command in (["snapshots", "tama"], ["links"], ["links", "--dead"], ["deliveries"], ["status"],
                    ["diff", "tama", "--from", "1", "--to", "2"]):
        as_json = run(*command, "--format", "json", cwd=tmp_path)
        assert as_json.returncode == 0, (command, as_json.stderr)
        json.loads(as_json.stdout)
        as_text = run(*command, "--format", "text", cwd=tmp_path, env=NARROW)
        assert as_text.returncode == 0 and not as_text.stdout.lstrip().startswith(("{", "[")), (command, as_text.stdout)
    assert run("status", "--format", "yaml", cwd=tmp_path).returncode == 2


def test_status_at_80_columns_shows_each_source_on_one_line(tmp_path, site, database_url):
    """Where a boxed table does not fit, rich folded the ids three letters a line ('tok', 'yo-', …):
    a line a source, grep-able, with its id whole beside its result."""
    publish(site, "/tama.txt", seed_text(TAMA))
    ids = ["tokyo-nationwide-collaboration", "tokyo-tama-strategy-2-local-measures"]
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True},
              "sources": [source_entry(source_id, site.url("/tama.txt")) for source_id in ids]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run("check", "--no-links", cwd=tmp_path)
    shown = run("status", cwd=tmp_path, env=NARROW)
    assert shown.returncode == 0, shown.stderr
    for source_id in ids:
        (line,) = [line for line in shown.stdout.splitlines() if source_id in line]
        assert re.search(r"\bchanged\b|\bunchanged\b|\bbaseline\b|\bok\b", line), shown.stdout
    wide = run("status", cwd=tmp_path, env={"COLUMNS": "200"})
    assert "┃ source" in wide.stdout and all(f"│ {source_id}" in wide.stdout for source_id in ids), wide.stdout
