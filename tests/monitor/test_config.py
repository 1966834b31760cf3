"""Configuration: one clear line naming the key, and the shipped config.yaml is valid."""

import os
import shutil
import subprocess
import sys
import time
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
    ({"sources": [{**SOURCE, "format": "html-table", "options": {"selecter": "x"}}]}, "cfg: sources[0].options.selecter: unknown key"),
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
    with pytest.raises(ConfigError, match=r"config.yaml:3: not valid YAML: "):
        load_config(path)


def test_shipped_config_is_valid_and_points_at_the_real_lists(monkeypatch):
    monkeypatch.delenv("SESAKU_DATABASE_URL", raising=False)
    config = load_config(ROOT / "config.yaml")
    assert config.database.url == "sqlite:///data/monitor.db" and config.timezone == "Asia/Tokyo"
    urls = [s.url for s in config.sources]
    assert any("kyozon-kyoei.metro.tokyo.lg.jp" in u for u in urls) and any("toshiseibi.metro.tokyo.lg.jp" in u for u in urls)


def _laughs(levels: int = 9, width: int = 9) -> str:
    """A few hundred bytes whose aliases expand to width ** levels nodes (9 ** 9: 387 million)."""
    lines = [f"l0: &l0 [{','.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}:")
    return message.removeprefix(f"{path}:")


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    assert len(_laughs()) < 500
    assert _refusal(tmp_path, _laughs()) == "5: aliases expand to more than 10,000 nodes"


def _chain(levels: int, depth: int) -> str:
    """Anchors nesting one another ``depth`` deep each: shallow as written, deep once expanded."""
    lines = [f"a0: &a0 {'[' * depth}x{']' * depth}"]
    lines += [f"a{i}: &a{i} {'[' * depth}*a{i - 1}{']' * depth}" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("text", "problem"), [
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", "1: nested deeper than 100 levels"),
    ("x: " + "{a: " * 5000 + "}" * 5000 + "\n", "1: nested deeper than 100 levels"),
    ("".join(" " * i + f"k{i}:\n" for i in range(150)) + " " * 150 + "v\n", "100: nested deeper than 100 levels"),
    (_chain(levels=20, depth=60), "2: nested deeper than 100 levels (through an alias)"),
    ("a: &a [1, *a]\n", "1: an alias refers to the collection that contains it"),
])
def test_deep_nesting_is_one_line_naming_the_line(tmp_path, text, problem):
    assert _refusal(tmp_path, text) == problem


@pytest.mark.parametrize(("text", "problem"), [
    ("database:\n  url: sqlite:///a.db\n  busy_timeout_s: 5\n  url: sqlite:///b.db\n", "4: key 'url' given twice (first on line 2)"),
    ("timezone: Asia/Tokyo\nsources: []\ntimezone: UTC\n", "3: key 'timezone' given twice (first on line 1)"),
    ("sources:\n  - id: a\n    title: t\n    options: {sheet: 1, sheet: 2}\n", "4: key 'sheet' given twice (first on line 4)"),
    ("sources:\n  - id: a\n    title: t\n  - id: b\n    title: t\n    id: c\n", "6: key 'id' given twice (first on line 4)"),
])
def test_a_key_given_twice_is_refused_at_any_level(tmp_path, text, problem):
    assert _refusal(tmp_path, text) == problem


def test_anchors_used_sensibly_still_work(tmp_path):
    """The first of seven lists is the template: the others merge it (``<<``), override what
    differs, and share its options; a config with nothing but such reuse loads as written."""
    first = """sources:
  - &tama
    id: tama-1
    title: 戦略1
    url: https://www.toshiseibi.metro.tokyo.lg.jp/seisaku/tama/s1.txt
    format: text-table
    key_columns: &keys [施策, 担当部署]
    name_column: 施策
    url_columns: [URL]
    options: &options {header_contains: 施策}
"""
    others = "".join(f"""  - <<: *tama
    id: tama-{i}
    title: 戦略{i}
    url: https://www.toshiseibi.metro.tokyo.lg.jp/seisaku/tama/s{i}.txt
    end_date_columns: *keys
    options: *options
""" for i in range(2, 8))
    path = tmp_path / "config.yaml"
    path.write_text(first + others, encoding="utf-8")
    sources = load_config(path).sources
    assert [s.id for s in sources] == [f"tama-{i}" for i in range(1, 8)]
    assert {s.format for s in sources} == {"text-table"} and sources[6].title == "戦略7"
    assert sources[6].key_columns == sources[6].end_date_columns == ["施策", "担当部署"]
    assert sources[6].options == {"header_contains": "施策"} and sources[6].url.endswith("/s7.txt")


def test_a_bad_config_exits_2_with_one_line_at_once(tmp_path):
    """The installed command, as a user runs it: no hang (the bomb used to run until killed), no
    traceback. Reading is timed in-process above; here the timeout only allows for start-up."""
    script = shutil.which("sesaku-monitor", path=str(Path(sys.executable).parent)) or "sesaku-monitor"
    (tmp_path / "bomb.yaml").write_text(_laughs(), encoding="utf-8")
    (tmp_path / "deep.yaml").write_text("x: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    for name, problem in (("bomb.yaml", "bomb.yaml:5: aliases expand"), ("deep.yaml", "deep.yaml:1: nested deeper")):
        done = subprocess.run([script, "check", "--config", name, "--no-links"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=30, env={**os.environ, "SESAKU_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"})
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith("sesaku-monitor: error: ") and problem in done.stderr and done.stderr.count("\n") == 1
