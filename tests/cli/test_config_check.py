"""`sesaku-monitor config check [FILE]`: every problem at once, at its line, exit 2; one OK line otherwise."""

from __future__ import annotations

import yaml

from tests.cli.test_cli import run
from tests.conftest import source_entry

BROKEN = """\
timezone: Mars/Olympus
sources:
  - id: tama
    title: 多摩
    url: https://www.toshiseibi.metro.tokyo.lg.jp/seisaku/tama/shien.html
    key_columns: [施策]
    name_column: 施策
    options:
      selectr: table.list
  - id: Second
    title: t
    url: gopher://example.jp/list
    format: xml
    key_columns: [k]
"""


def test_every_problem_is_listed_with_its_line_and_key(tmp_path):
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    result = run("config", "check", "broken.yaml", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "broken.yaml:1: timezone: unknown time zone 'Mars/Olympus'",
        "broken.yaml:9: sources[0].options.selectr: unknown key",
        "broken.yaml:10: sources[1].id: must be lower-case letters, digits, '.', '_' or '-' (it names the source forever)",
        "broken.yaml:10: sources[1].name_column: required key is missing",
        "broken.yaml:12: sources[1].url: must start with https://, http:// or file:// (got 'gopher://example.jp/list')",
    ]
    assert lines[5].startswith("broken.yaml:13: sources[1].format: unknown format 'xml' (known: auto, csv,") and len(lines) == 6
    assert result.stderr.strip() == "broken.yaml: 6 problems"


def test_a_typo_under_options_is_refused_when_the_format_is_auto(tmp_path):
    entry = source_entry("tama", "https://www.toshiseibi.metro.tokyo.lg.jp/seisaku/tama/shien.html", format="auto", options={"header_contians": "施策"})
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"sources": [entry]}, allow_unicode=True), encoding="utf-8")
    checked = run("config", "check", cwd=tmp_path)
    assert checked.returncode == 2 and "sources[0].options.header_contians: unknown key" in checked.stdout
    # The commands that load the configuration refuse it too, instead of ignoring the option.
    ran = run("check", "--no-links", cwd=tmp_path)
    assert ran.returncode == 2 and "sources[0].options.header_contians: unknown key" in ran.stderr


def test_a_good_file_gets_one_ok_line(tmp_path):
    entry = source_entry("tama", "https://www.toshiseibi.metro.tokyo.lg.jp/seisaku/tama/shien.html", options={"header_contains": "施策"})
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"sources": [entry]}, allow_unicode=True), encoding="utf-8")
    result = run("config", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["config.yaml: OK — 1 source(s) (tama), 0 notifier(s), times in Asia/Tokyo"]


def test_bad_yaml_and_a_missing_file_are_one_line_each(tmp_path):
    (tmp_path / "config.yaml").write_text("sources:\n  - id: [a\n", encoding="utf-8")
    bad = run("config", "check", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout.startswith("config.yaml:3: not valid YAML")
    missing = run("config", "check", "nope.yaml", cwd=tmp_path)
    assert (missing.returncode, missing.stdout.strip()) == (2, "nope.yaml: no such configuration file")


def test_the_shipped_config_is_ok():
    from pathlib import Path

    shipped = Path(__file__).parents[2] / "config.yaml"
    result = run("config", "check", str(shipped), cwd=shipped.parent)
    assert result.returncode == 0 and ": OK — " in result.stdout, result.stdout
