"""Configuration: one clear line naming the key, and the shipped config.yaml is valid."""

from pathlib import Path

import pytest

from monitor.config import load_config, parse_config
from monitor.errors import ConfigError

ROOT = Path(__file__).parents[2]
SOURCE = {"id": "a", "title": "t", "url": "https://example.lg.jp/list.txt", "key_columns": ["施策"], "name_column": "施策"}


@pytest.mark.parametrize(("data", "message"), [
    ({"sources": [{**SOURCE, "format": "xml"}]}, "cfg: sources[0].format: unknown format 'xml'"),
    ({"sources": [{**SOURCE, "url": "ftp://x"}]}, "cfg: sources[0].url: must start with https://, http:// or file://"),
    ({"sources": [{k: v for k, v in SOURCE.items() if k != "name_column"}]}, "cfg: sources[0].name_column: required key is missing"),
    ({"sources": [{**SOURCE, "format": "html-table", "options": {"selecter": "x"}}]}, "cfg: sources[0]: options: selecter: unknown key"),
    ({"databse": {"url": "sqlite://"}}, "cfg: databse: unknown key"),
    ({"timezone": "Mars/Olympus"}, "cfg: timezone: unknown time zone 'Mars/Olympus'"),
    ({"sources": [SOURCE, SOURCE]}, "source id 'a' is used twice"),
    ({"sources": [{**SOURCE, "id": "Bad Id"}]}, "cfg: sources[0].id: must be lower-case"),
])
def test_a_wrong_key_is_one_line_naming_it(data, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "cfg")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_variables_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LIST_HOST", "example.lg.jp")
    config = parse_config({"sources": [{**SOURCE, "url": "https://${LIST_HOST}/a.txt"}]})
    assert config.sources[0].url == "https://example.lg.jp/a.txt"
    monkeypatch.delenv("LIST_HOST")
    with pytest.raises(ConfigError, match=r"cfg.sources\[0\].url: environment variable LIST_HOST is not set"):
        parse_config({"sources": [{**SOURCE, "url": "https://${LIST_HOST}/a.txt"}]}, "cfg")


def test_database_url_from_the_environment_wins(monkeypatch):
    monkeypatch.setenv("SESAKU_DATABASE_URL", "sqlite:////tmp/other.db")
    assert parse_config({}).database.url == "sqlite:////tmp/other.db"


def test_bad_yaml_names_the_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("sources:\n  - id: a\n   title: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.yaml: line \d+: not valid YAML"):
        load_config(path)


def test_shipped_config_is_valid_and_points_at_the_real_lists(monkeypatch):
    monkeypatch.delenv("SESAKU_DATABASE_URL", raising=False)
    config = load_config(ROOT / "config.yaml")
    assert config.database.url == "sqlite:///data/monitor.db" and config.timezone == "Asia/Tokyo"
    urls = [s.url for s in config.sources]
    assert any("kyozon-kyoei.metro.tokyo.lg.jp" in u for u in urls) and any("toshiseibi.metro.tokyo.lg.jp" in u for u in urls)
