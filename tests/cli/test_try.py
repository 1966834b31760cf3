"""`try SOURCE`: a source's parse, keyed and named as a run would, before anything is stored."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from sqlalchemy import func, select

from monitor.demo.site import Route
from store.database import open_engine, session_factory, transaction
from store.models import Snapshot, Source
from tests.cli.test_cli import run
from tests.conftest import TAMA, seed_text, source_entry
from tests.lists.documents import HTML, index_page
from tests.lists.test_families import INDEX, STRATEGIES, link, strategy_text
from tests.runtime.test_check import publish


def _write_config(folder: Path, database_url: str, *sources: dict) -> None:
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True}, "sources": list(sources)}
    (folder / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def _stored_rows(database_url: str) -> int:
    engine = open_engine(database_url)
    try:
        with transaction(session_factory(engine)) as session:
            return sum(session.scalar(select(func.count()).select_from(model)) or 0 for model in (Source, Snapshot))
    finally:
        engine.dispose()


def test_try_shows_keys_names_urls_and_end_dates_and_stores_nothing(tmp_path, site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    # A first guess at the key that does not tell the measures apart: try says so before a baseline exists.
    _write_config(tmp_path, database_url, source_entry("tama", site.url("/tama.txt"), key_columns=["担当部署"]))
    shown = run("try", "tama", "--rows", "3", "--format", "json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    trial = json.loads(shown.stdout)
    assert (trial["status"], trial["count"], trial["key_columns"], trial["name_column"]) == ("ok", 44, ["担当部署"], "施策")
    assert len(trial["rows"]) == 3
    first = trial["rows"][0]
    assert first["name"] == "地域を主体とするスマート東京先進事例創出事業"
    assert first["key"].startswith("デジタルサービス局") and first["urls"] == ["https://www.chiki-smarttokyo.metro.tokyo.lg.jp/"]
    assert any("share a key with another row" in warning for warning in trial["warnings"])

    text = run("try", "tama", "--rows", "2", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "44 records" in text.stdout and "nothing was stored" in text.stdout and "share a key" in text.stdout
    if database_url.startswith("sqlite"):
        assert not (tmp_path / "monitor.db").exists()  # no database was even opened
    else:
        assert _stored_rows(database_url) == 0


def test_try_names_what_a_run_would_find_suspect_and_an_unknown_id(tmp_path, site):
    publish(site, "/tama.txt", seed_text(TAMA))
    _write_config(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}", source_entry("tama", site.url("/tama.txt"), end_date_columns=["終了日"]))
    tried = run("try", "tama", "--json", cwd=tmp_path)
    assert tried.returncode == 3  # as `check` exits for a suspect source
    suspect = json.loads(tried.stdout)
    assert suspect["status"] == "suspect" and "'終了日' is missing" in suspect["error"]
    unknown = run("try", "tama-typo", cwd=tmp_path)
    assert unknown.returncode == 2 and "tama-typo" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "monitor.db").exists()


def test_try_an_index_shows_each_list_it_would_find_with_its_count(tmp_path, site):
    for number in STRATEGIES:
        site.publish(f"/seisaku/tama/r4_strategy{number}.txt", Route(strategy_text(number).encode("utf-8")))
    site.publish(INDEX, Route(index_page([link(n) for n in STRATEGIES]), content_type=HTML))
    entry = source_entry("tama", site.url(INDEX), kind="index", link_pattern=r"戦略\d", link_id_pattern=r"戦略\s*(\d+)")
    _write_config(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}", entry)
    trial = json.loads(run("try", "tama", "--rows", "1", "--json", cwd=tmp_path).stdout)
    assert (trial["kind"], trial["status"], trial["count"]) == ("index", "ok", 3)
    assert [(found["id"], found["status"], found["count"]) for found in trial["lists"]] == [("tama-1", "ok", 15), ("tama-2", "ok", 15), ("tama-3", "ok", 14)]
    text = run("try", "tama", cwd=tmp_path).stdout
    assert "3 lists" in text and "tama-3 (list)" in text and "14 records" in text
    assert not (tmp_path / "monitor.db").exists()


def test_check_dry_run_tries_every_source_and_stores_nothing(tmp_path, site):
    publish(site, "/tama.txt", seed_text(TAMA))
    publish(site, "/nationwide.txt", seed_text("tokyo-nationwide-collaboration-r4.txt"))
    _write_config(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}", source_entry("tama", site.url("/tama.txt")),
                  source_entry("nationwide", site.url("/nationwide.txt")))
    dry = run("check", "--dry-run", "--json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert [(s["id"], s["status"], s["count"], len(s["rows"])) for s in json.loads(dry.stdout)["sources"]] == [
        ("tama", "ok", 44, 5), ("nationwide", "ok", 79, 5)]
    assert not (tmp_path / "monitor.db").exists()
