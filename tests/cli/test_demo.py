"""The README's first command: the offline demo tells the whole story from the console script."""

from __future__ import annotations

import json
import sqlite3

from tests.cli.test_cli import run


def test_demo_shows_changes_dead_links_and_the_digest(tmp_path):
    result = run("demo", "--dir", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "tokyo-tama-strategy-2: baseline, 44 measures" in out
    assert "1 added, 1 ended, 1 renamed, 2 changed, 1 expired" in out
    assert "links: 31 checked, 4 dead" in out
    for outcome in ("not_found", "moved_to_top", "soft_404"):
        assert outcome in out
    digest = out.split("the digest a subscriber received", 1)[1]
    assert "リンク切れ 4" in digest and "版: 令和4年4月1日時点 → 令和5年4月1日時点" in digest
    assert "連絡先: 03-5388-2443 → 03-5388-2450" in digest
    database = tmp_path / "demo" / "demo.db"
    assert str(database) in out and (tmp_path / "demo" / "config.yaml").exists()
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM deliveries WHERE status = 'sent'").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM links WHERE dead_since IS NOT NULL").fetchone() == (4,)
    assert "dead_after: 1" in out  # what it changed for speed is said
    history = run("history", "83", "--config", "demo/config.yaml", cwd=tmp_path)
    assert history.returncode == 0 and "多摩PR事業" in history.stdout


def test_the_config_the_demo_leaves_runs_every_next_command(tmp_path):
    assert run("demo", "--dir", "demo", cwd=tmp_path).returncode == 0
    config = ["--config", "demo/config.yaml"]
    snapshots = run("snapshots", "tokyo-tama-strategy-2", "--json", *config, cwd=tmp_path)
    assert snapshots.returncode == 0, snapshots.stderr
    by_status = {snapshot["status"]: str(snapshot["id"]) for snapshot in json.loads(snapshots.stdout)}
    diff = run("diff", "tokyo-tama-strategy-2", "--from", by_status["baseline"], "--to", by_status["changed"], *config, cwd=tmp_path)
    assert diff.returncode == 0 and "多摩PR事業" in diff.stdout
    preview = run("digest", "demo-digest", "--preview", *config, cwd=tmp_path)
    assert preview.returncode == 0, preview.stderr
    status = run("status", "--json", *config, cwd=tmp_path)
    assert status.returncode == 0 and "tokyo-nationwide-collaboration" in status.stdout, status.stderr
    again = run("check", "--no-links", "--json", *config, cwd=tmp_path)  # the lists, left as local files
    assert again.returncode == 0, again.stderr
    assert {s["id"]: s["status"] for s in json.loads(again.stdout)["sources"]} == {
        "tokyo-nationwide-collaboration": "unchanged", "tokyo-tama-strategy-2": "unchanged"}
