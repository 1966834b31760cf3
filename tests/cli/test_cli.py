"""The installed console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import TAMA, seed_text, source_entry
from tests.runtime.test_check import publish
from tests.versions import derive, set_cell

SCRIPT = shutil.which("sesaku-monitor", path=str(Path(sys.executable).parent)) or shutil.which("sesaku-monitor")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [SCRIPT, *args] if SCRIPT else [sys.executable, "-m", "monitor", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture
def workdir(tmp_path, site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True},
              "sources": [source_entry("tama", site.url("/tama.txt"))]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_check_json_follows_the_run_report_contract(workdir, site):
    first = run("check", "--config", "config.yaml", "--no-links", "--json", cwd=workdir)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert set(report) >= {"run_id", "started_at", "finished_at", "sources", "links"}
    (source,) = report["sources"]
    assert (source["id"], source["status"], source["records"], source["error"]) == ("tama", "baseline", 44, None)
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, "多摩の魅力発信プロジェクト", 0, "多摩の魅力発信プロジェクト2026"),
                                      set_cell(0, "土地区画整理事業", 3, "03-5320-0000")))
    second = json.loads(run("check", "--no-links", "--json", cwd=workdir).stdout)
    (source,) = second["sources"]
    assert source["status"] == "changed"
    (renamed,) = source["renamed"]
    assert set(renamed) >= {"measure_id", "key", "name", "fields", "old_name", "new_name"}
    assert renamed["fields"]["施策"] == {"old": "多摩の魅力発信プロジェクト", "new": "多摩の魅力発信プロジェクト2026"}
    (changed,) = source["changed"]
    assert changed["fields"] == {"連絡先": {"old": "公共区画整理担当 03-5320-5442 民間区画整理担当 03-5320-5132", "new": "03-5320-0000"}}
    assert second["links"]["checked"] == 0

    history = run("history", str(changed["measure_id"]), cwd=workdir)
    assert history.returncode == 0 and "03-5320-0000" in history.stdout and "土地区画整理事業" in history.stdout
    snapshots = json.loads(run("snapshots", "tama", "--json", cwd=workdir).stdout)
    assert [s["status"] for s in snapshots] == ["changed", "baseline"]
    diff = run("diff", "tama", "--from", str(snapshots[1]["id"]), "--to", str(snapshots[0]["id"]), cwd=workdir)
    assert diff.returncode == 0 and "renamed" in diff.stdout and "03-5320-0000" in diff.stdout


def test_text_report_and_failure_exit_code(workdir, site):
    assert "tama: baseline, 44 measures" in run("check", "--no-links", cwd=workdir).stdout
    site.remove("/tama.txt")
    failed = run("check", "--no-links", cwd=workdir)
    assert failed.returncode == 3
    assert "tama: failed" in failed.stdout and "HTTP 404" in failed.stdout


def test_config_error_is_one_line_with_exit_code_2(tmp_path):
    (tmp_path / "config.yaml").write_text("sources:\n  - id: a\n    title: t\n    url: gopher://x\n    key_columns: [a]\n    name_column: a\n", encoding="utf-8")
    result = run("check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["sesaku-monitor: error: config.yaml: sources[0].url: must start with https://, http:// or file:// (got 'gopher://x')"]


def test_missing_config_and_unknown_measure(tmp_path):
    missing = run("check", "--config", "nope.yaml", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.yaml: no such configuration file" in missing.stderr
    (tmp_path / "config.yaml").write_text(f"database:\n  url: sqlite:///{tmp_path}/m.db\n", encoding="utf-8")
    unknown = run("history", "999", cwd=tmp_path)
    assert unknown.returncode == 2 and "no measure with id 999" in unknown.stderr


def test_every_command_documents_an_example():
    import click

    from monitor.cli import cli

    def commands(group, prefix=""):
        context = click.Context(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            if isinstance(command, click.Group):
                yield from commands(command, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}", command

    for name, command in commands(cli):
        assert "Example:" in (command.help or ""), f"`{name}` has no example in its help"


def test_loading_a_configuration_and_parsing_a_list_leave_the_heavy_libraries_unloaded(tmp_path):
    """What a short command pays for at start: no HTTP client, template engine, HTML parser or numpy."""
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"sources": [source_entry("tama", "file:///tmp/tama.txt")],
                                      "notifiers": [{"id": "ops", "type": "webhook", "options": {"url": "https://hooks.example.jp/x"}}]}))
    code = ("import sys; from monitor.config import load_config; from monitor.lists.parsers import Document, parse_document;"
            f"load_config({str(config)!r}); parse_document(Document('施策\\t担当\\nA\\t局'.encode(), url='x'), 'text-table');"
            "print(sorted(m for m in ('httpx', 'jinja2', 'bs4', 'numpy') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
