"""config.yaml's composed data cached as JSON by the sha256 of its bytes (monitor/config/yaml_cache.py):
the second load of the same bytes does not compose YAML again; an edited file is read anew; hostile
YAML is refused every time (never cached); a corrupt cache file is ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.config import yaml_cache, yaml_file
from monitor.errors import ConfigError

CONFIG = "timezone: Asia/Tokyo\ndatabase:\n  url: sqlite:///{name}.db\nsources:\n  - id: tama\n    title: {title}\n    url: https://example.lg.jp/a.csv\n    format: csv\n    key_columns: [施策]\n    name_column: 施策\n"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "sesaku-monitor"


def _no_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str, where: str) -> None:
        raise AssertionError("YAML composed again for bytes already cached")
    monkeypatch.setattr(yaml_file, "load_yaml", refuse)


def test_the_same_bytes_load_from_the_cache_and_an_edited_file_is_read_again(tmp_path, cache, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(name="a", title="多摩 戦略2"), encoding="utf-8")
    first = load_config(path)
    assert [p.suffix for p in cache.glob("config-*")] == [".json"]
    with monkeypatch.context() as patched:
        _no_yaml(patched)
        again = load_config(path)
    assert again.sources[0].title == first.sources[0].title == "多摩 戦略2" and again.database.url == first.database.url
    path.write_text(CONFIG.format(name="b", title="多摩 戦略3"), encoding="utf-8")
    edited = load_config(path)
    assert edited.sources[0].title == "多摩 戦略3" and edited.database.url.endswith("/b.db")
    assert len(list(cache.glob("config-*"))) == len(list(cache.glob("view-*"))) == 1  # the edited file replaced its entries


def test_hostile_yaml_is_refused_every_time(tmp_path, cache):
    path = tmp_path / "config.yaml"
    path.write_text("database:\n  url: sqlite:///a.db\n  url: sqlite:///b.db\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"config.yaml:3: key 'url' given twice"):
            load_config(path)
    assert not cache.exists() or not list(cache.iterdir())


@pytest.mark.parametrize("corrupt", ["{not json", '{"sha256": "0", "data": {}}', '["a list"]', ""])
def test_a_corrupt_cache_is_ignored(tmp_path, cache, corrupt):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(name="a", title="一覧"), encoding="utf-8")
    load_config(path)
    (entry,) = cache.glob("config-*")
    entry.write_text(corrupt, encoding="utf-8")
    assert load_config(path).sources[0].title == "一覧"
    assert '"一覧"' in entry.read_text(encoding="utf-8")  # written again whole


def test_the_cache_is_readable_by_its_owner_only(tmp_path, cache):
    # config.yaml may hold a password written in it: the cache must not show it to others.
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(name="a", title="A"), encoding="utf-8")
    load_config(path)
    (written,) = cache.glob("config-*.json")
    assert written.stat().st_mode & 0o777 == 0o600
    assert cache.stat().st_mode & 0o777 == 0o700


def test_data_json_would_change_is_read_from_the_yaml_each_time(tmp_path, cache):
    # A date would come back from JSON as a string, an integer key as a string key: never cached.
    for text in ("since: 2024-04-01\n", "sheets: {1: 施策}\n"):
        raw = text.encode()
        first = yaml_cache.load_yaml_cached(raw, str(tmp_path / "config.yaml"))
        assert yaml_cache.load_yaml_cached(raw, str(tmp_path / "config.yaml")) == first
        assert not cache.exists() or not list(cache.iterdir())
    assert first == {"sheets": {1: "施策"}}
