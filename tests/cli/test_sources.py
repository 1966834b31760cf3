"""`sources`: fix a source without losing it — rekey, rebaseline, retire — through the installed command."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import yaml
from sqlalchemy import func, select

from monitor.config import load_config

from store.database import open_engine, session_factory, transaction
from store.models import Event, Link, Measure, MeasureVersion, Snapshot
from tests.cli.test_cli import run
from tests.conftest import TAMA, seed_text, source_entry
from tests.runtime.test_check import publish
from tests.web.conftest import serving
from web.app import create_app
from tests.versions import derive, remove_row, set_cell

WRONG = {"key_columns": ["担当部署"], "name_column": "施策概要"}  # a first guess: departments repeat, the summary is no name


def _configure(folder: Path, database_url: str, *sources: dict) -> None:
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True}, "sources": list(sources)}
    (folder / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def _check(folder: Path) -> dict:
    result = run("check", "--no-links", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    (source,) = json.loads(result.stdout)["sources"]
    return source


def _listed(folder: Path) -> list[dict]:
    result = run("sources", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _read(database_url: str, read):  # type: ignore[no-untyped-def]
    engine = open_engine(database_url)
    try:
        with transaction(session_factory(engine)) as session:
            return read(session)
    finally:
        engine.dispose()


def _measures(session) -> dict[str, tuple[int, str, int]]:  # type: ignore[no-untyped-def]
    """name → (measure id, key, versions), and each id → the same."""
    versions = dict(session.execute(select(MeasureVersion.measure_id, func.count()).group_by(MeasureVersion.measure_id)).all())
    found = {}
    for m in session.scalars(select(Measure).order_by(Measure.id)):
        found[m.name] = found[str(m.id)] = (m.id, m.key, versions[m.id])
    return found


def _ids(measures: dict[str, tuple[int, str, int]]) -> list[int]:
    return sorted(value[0] for name, value in measures.items() if name.isdigit())


def _kinds(session) -> list[str]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Event.kind).order_by(Event.id)))


def test_rekey_gives_the_stored_measures_the_fixed_keys_and_names_and_keeps_their_history(tmp_path, site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    _configure(tmp_path, database_url, source_entry("tama", site.url("/tama.txt"), **WRONG))
    assert _check(tmp_path)["status"] == "baseline"
    before = _read(database_url, _measures)
    assert "地域を主体とするスマート東京先進事例創出事業" not in before  # named by the summary column

    _configure(tmp_path, database_url, source_entry("tama", site.url("/tama.txt")))
    rekeyed = run("sources", "rekey", "tama", "--json", cwd=tmp_path)
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert json.loads(rekeyed.stdout) == {"id": "tama", "measures": 44, "keys_changed": 44, "names_changed": 44, "unpaired": 0, "reparsed": True}

    assert _check(tmp_path)["status"] in ("not_modified", "unchanged")  # the same page: nothing to report
    after = _read(database_url, _measures)
    smart = after["地域を主体とするスマート東京先進事例創出事業"]
    assert smart[1] == "地域を主体とするスマート東京先進事例創出事業 | デジタルサービス局 デジタルサービス推進部 デジタルサービス推進課"
    assert _ids(after) == _ids(before) and len(_ids(after)) == 44  # the same measures, no new ones
    assert all(versions == 1 for _, _, versions in after.values())
    assert _read(database_url, _kinds) == ["rekeyed"]

    # A real edit afterwards is one change of the measure, under its new key: no added/ended wave.
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, "土地区画整理事業", 3, "03-5320-0000")))
    edited = _check(tmp_path)
    assert (len(edited["changed"]), edited["added"], edited["ended"], edited["renamed"]) == (1, [], [], [])
    assert edited["changed"][0]["key"].startswith("土地区画整理事業 | ")
    assert _read(database_url, _kinds) == ["rekeyed", "changed"]


def test_rebaseline_stores_a_fresh_baseline_without_events_and_keeps_what_pairs(tmp_path, site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    _configure(tmp_path, database_url, source_entry("tama", site.url("/tama.txt")))
    _check(tmp_path)
    smart = _read(database_url, _measures)["まちづくり推進コンシェルジュ"]
    publish(site, "/tama.txt", derive(seed_text(TAMA), remove_row(0, "土地区画整理事業"), set_cell(0, "まちづくり推進コンシェルジュ", 3, "03-0000-0000")))
    marked = run("sources", "rebaseline", "tama", cwd=tmp_path)
    assert marked.returncode == 0 and "fresh baseline" in marked.stdout
    assert _listed(tmp_path)[0]["rebaseline_next_run"] is True

    fresh = _check(tmp_path)
    assert (fresh["status"], fresh["records"], fresh["changed"], fresh["ended"]) == ("baseline", 43, [], [])
    assert _read(database_url, _kinds) == []
    kept = _read(database_url, _measures)["まちづくり推進コンシェルジュ"]
    assert (kept[0], kept[2]) == (smart[0], 2)  # the same measure, its old version kept beside the new one
    assert _listed(tmp_path)[0]["rebaseline_next_run"] is False
    assert _check(tmp_path)["status"] in ("not_modified", "unchanged")  # the mark is spent: an ordinary run again


def _cited(session) -> set[str]:
    return set(session.scalars(select(Link.url).where(Link.cited.is_(True))))


def test_retire_keeps_a_source_and_stops_running_it_and_one_removed_from_config_is_not_in_config(tmp_path, site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    nationwide = source_entry("nationwide", site.url("/nationwide.txt"))
    publish(site, "/nationwide.txt", seed_text("tokyo-nationwide-collaboration-r4.txt"))
    _configure(tmp_path, database_url, source_entry("tama", site.url("/tama.txt")), nationwide)
    assert run("check", "--no-links", cwd=tmp_path).returncode == 0
    watched = _read(database_url, _cited)
    assert run("sources", "retire", "tama", cwd=tmp_path).returncode == 0

    ran = json.loads(run("check", "--no-links", "--json", cwd=tmp_path).stdout)["sources"]
    assert [(s["id"], s["status"]) for s in ran] == [("tama", "retired"), ("nationwide", "not_modified")]
    count = _read(database_url, lambda session: session.scalar(select(func.count()).select_from(Snapshot).where(Snapshot.source_id == "tama")))
    assert count == 1  # not fetched again
    left = _read(database_url, _cited)
    assert left and left < watched  # tama's own links are no longer checked; nationwide's are
    status = run("status", cwd=tmp_path)
    assert status.returncode == 0 and "retired (kept, not run): tama" in status.stdout

    with serving(create_app(load_config(tmp_path / "config.yaml"))) as base, httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/sources/tama").text
        overview = client.get("/").text
    assert "<h1>多摩のまちづくり 戦略2 <span class=\"muted\">(監視終了)</span></h1>" in page
    assert "/sources/tama\">多摩のまちづくり 戦略2</a> <span class=\"muted\">(監視終了)</span>" in overview

    _configure(tmp_path, database_url, source_entry("tama", site.url("/tama.txt")))
    states = {s["id"]: s["state"] for s in _listed(tmp_path)}
    assert states == {"tama": "retired", "nationwide": "not in config"}
    status = json.loads(run("status", "--json", cwd=tmp_path).stdout)
    assert (status["retired"], status["not_in_config"]) == (["tama"], ["nationwide"])
    with serving(create_app(load_config(tmp_path / "config.yaml"))) as base, httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/sources/nationwide").text
        overview = client.get("/").text
    assert "<h1>全国各地との連携事業一覧 <span class=\"muted\">(設定から削除（保存のみ）)</span></h1>" in page
    assert "/sources/nationwide\">全国各地との連携事業一覧</a> <span class=\"muted\">(設定から削除（保存のみ）)</span>" in overview
    assert "/sources/tama\">多摩のまちづくり 戦略2</a> <span class=\"muted\">(監視終了)</span>" in overview
    shown = run("snapshots", "nationwide", "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert [s["status"] for s in json.loads(shown.stdout)] == ["not_modified", "baseline"]

    assert run("sources", "unretire", "tama", cwd=tmp_path).returncode == 0
    assert _read(database_url, _cited) == watched  # its links are checked again
    assert _check(tmp_path)["status"] == "not_modified"
    assert {s["id"]: s["state"] for s in _listed(tmp_path)}["tama"] == "watched"


def test_fixing_an_unknown_or_never_run_source_is_one_clear_line(tmp_path, site):
    publish(site, "/tama.txt", seed_text(TAMA))
    _configure(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}", source_entry("tama", site.url("/tama.txt")))
    for command in ("rekey", "rebaseline", "retire"):
        result = run("sources", command, "tama", cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == ["sesaku-monitor: error: no stored source 'tama': it has never run (`sesaku-monitor sources` lists the stored ones)"]
    listed = _listed(tmp_path)
    assert [(s["id"], s["state"]) for s in listed] == [("tama", "not yet run")]
