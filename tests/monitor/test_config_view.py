"""``status`` reads what a full load checked of the same bytes (monitor/config_view.py): the same
output without validating the file again; an edited file, another schema or an unset variable
sends it to the full load; a secret comes from the environment, never from the cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import monitor.config
from monitor import config_view
from monitor.cli import cli
from monitor.config_view import read_view
from tests.conftest import source_entry


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "sesaku-monitor"


def _write(path: Path, database_url: str, **top: Any) -> Path:
    sources = [source_entry("tama", "http://127.0.0.1:9/tama.txt"),
               source_entry("nationwide", "http://127.0.0.1:9/n.txt", schedule={"cron": "0 7 * * 1"}, title="全国 ${LIST_TITLE}"),
               source_entry("old", "http://127.0.0.1:9/old.txt", schedule={"every": "1h30m"}, enabled=False)]
    data = {"database": {"url": database_url}, "timezone": "Europe/Berlin", "sources": sources,
            "schedule": {"sources": {"every": "2h"}, "pid_file": str(path.parent / "d.pid")}, **top}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _status(path: Path, *flags: str) -> str:
    result = CliRunner().invoke(cli, ["status", *flags, "--config", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _refuse_full_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: object) -> None:
        raise AssertionError("the file was loaded in full again")
    monkeypatch.setattr(monitor.config, "load_config", refuse)


def test_status_from_the_view_says_what_the_full_load_said(database_url, tmp_path, cache, monkeypatch):
    monkeypatch.setenv("LIST_TITLE", "連携事業")
    path = _write(tmp_path / "config.yaml", database_url)
    first, first_table = json.loads(_status(path, "--json")), _status(path)  # the full load keeps the view
    assert list(cache.glob("view-*"))
    with monkeypatch.context() as patched:
        _refuse_full_load(patched)
        again, again_table = json.loads(_status(path, "--json")), _status(path)
    for data in (first, again):  # the clock, and on PostgreSQL the fleet's heartbeat ages, move on
        data.pop("now"), data.pop("fleet", None)
    assert again == first
    assert [(s["id"], s["title"], s["schedule"]) for s in again["sources"]] == [
        ("tama", "多摩のまちづくり 戦略2", "every 2h"), ("nationwide", "全国 連携事業", "cron 0 7 * * 1"), ("old", "多摩のまちづくり 戦略2", "every 90m")]
    assert again["daemon"]["pid_file"] == str(tmp_path / "d.pid")
    assert again_table.split("\nFleet:")[0] == first_table.split("\nFleet:")[0]


def test_an_edited_file_or_another_schema_is_loaded_in_full(database_url, tmp_path, cache, monkeypatch):
    monkeypatch.setenv("LIST_TITLE", "連携事業")
    path = _write(tmp_path / "config.yaml", database_url)
    _status(path, "--json")
    assert read_view(path) is not None
    path.write_text(path.read_text(encoding="utf-8").replace("全国 ${LIST_TITLE}", "全国の一覧"), encoding="utf-8")
    assert read_view(path) is None
    assert json.loads(_status(path, "--json"))["sources"][1]["title"] == "全国の一覧"
    assert read_view(path) is not None  # kept again for these bytes
    monkeypatch.setattr(config_view, "schema_stamp", lambda: "another schema")
    assert read_view(path) is None


def test_secrets_come_from_this_process_environment_never_from_the_cache(database_url, tmp_path, cache, monkeypatch):
    if not database_url.startswith("sqlite:///"):
        pytest.skip("the database's file path stands in for a secret")
    folder = str(Path(database_url.removeprefix("sqlite:///")).parent)
    monkeypatch.setenv("LIST_TITLE", "秘密の題名")
    monkeypatch.setenv("DB_FOLDER", folder)
    path = _write(tmp_path / "config.yaml", "sqlite:///${DB_FOLDER}/" + Path(database_url).name, schedule={"sources": {"every": "2h"}})
    _status(path, "--json")
    (kept,) = cache.glob("view-*")
    text = kept.read_text(encoding="utf-8")
    assert "秘密の題名" not in text and folder not in text and "${DB_FOLDER}" in text
    assert kept.stat().st_mode & 0o077 == 0
    view = read_view(path)
    assert view is not None and view.database.url == database_url and view.sources[1].title == "全国 秘密の題名"
    monkeypatch.setenv("LIST_TITLE", "別の題名")
    assert read_view(path).sources[1].title == "全国 別の題名"
    monkeypatch.setenv("SESAKU_DATABASE_URL", "sqlite:////elsewhere/m.db")
    assert read_view(path).database.url == "sqlite:////elsewhere/m.db"
    monkeypatch.delenv("SESAKU_DATABASE_URL")
    monkeypatch.delenv("DB_FOLDER")
    assert read_view(path) is None
    result = CliRunner().invoke(cli, ["status", "--config", str(path)])
    assert result.exit_code != 0 and "environment variable DB_FOLDER is not set" in result.output


def test_a_kept_setting_from_the_environment_is_never_kept(database_url, tmp_path, cache, monkeypatch):
    monkeypatch.setenv("LIST_TITLE", "連携事業")
    monkeypatch.setenv("EVERY", "3h")
    path = _write(tmp_path / "config.yaml", database_url)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["sources"][0]["schedule"] = {"every": "${EVERY}"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert json.loads(_status(path, "--json"))["sources"][0]["schedule"] == "every 3h"
    assert read_view(path) is None and not list(cache.glob("view-*"))


@pytest.mark.parametrize("corrupt", ["", "{not json\n", '{"sha256": "0", "schema": "0", "vars": []}\n{}', "HEADER\n[1, 2]"])
def test_a_corrupt_view_is_ignored(database_url, tmp_path, cache, monkeypatch, corrupt):
    monkeypatch.setenv("LIST_TITLE", "連携事業")
    path = _write(tmp_path / "config.yaml", database_url)
    expected = json.loads(_status(path, "--json"))
    (kept,) = cache.glob("view-*")
    header = kept.read_text(encoding="utf-8").split("\n", 1)[0]
    kept.write_text(corrupt.replace("HEADER", header), encoding="utf-8")
    assert read_view(path) is None
    again = json.loads(_status(path, "--json"))
    for data in (expected, again):
        data.pop("now"), data.pop("fleet", None)
    assert again == expected
