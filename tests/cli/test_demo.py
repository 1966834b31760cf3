"""The README's first command: the offline demo tells the whole story from the console script."""

from __future__ import annotations

import sqlite3

from tests.cli.test_cli import run


def test_demo_shows_changes_dead_links_and_the_digest(tmp_path):
    result = run("demo", "--dir", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "tokyo-tama-strategy2: baseline, 44 measures" in out
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
    history = run("history", "83", "--config", "demo/config.yaml", cwd=tmp_path)
    assert history.returncode == 0 and "多摩PR事業" in history.stdout
