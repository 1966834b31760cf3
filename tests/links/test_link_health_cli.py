"""``check`` with links and the ``links`` commands, through the installed console script."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from monitor.demo.site import Route
from tests.conftest import source_entry
from tests.links.health import FAST_LINKS, citing_list
from tests.cli.test_cli import run


@pytest.fixture
def workdir(tmp_path, site, database_url, link_site):
    gone, ok = link_site.url(0, "/missing.html"), link_site.url(1, "/ok.html")
    site.publish("/tama.txt", Route(citing_list([gone], ok).encode("utf-8")))
    # A failing link is due again after about a second, so two runs make it dead.
    links = {**FAST_LINKS, "recheck_failing_h": 0.0003}
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True},
              "sources": [source_entry("tama", site.url("/tama.txt"))], "links": links}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return tmp_path, gone, ok


def test_check_then_links_dead_summary_and_history(workdir):
    cwd, gone, ok = workdir
    first = run("check", "--json", cwd=cwd)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["links"] == {"checked": 2, "dead": [], "recovered": [], "moved": []}
    time.sleep(1.3)
    second = json.loads(run("check", "--json", cwd=cwd).stdout)["links"]
    assert second["checked"] == 1
    (dead,) = second["dead"]
    assert (dead["url"], dead["outcome"], dead["http_status"]) == (gone, "not_found", 404) and dead["measures"]

    listed = json.loads(run("links", "--dead", "--json", cwd=cwd).stdout)
    (entry,) = listed
    assert entry["url"] == gone and entry["since"] and entry["measures"][0]["id"] == dead["measures"][0]
    text = run("links", "--dead", cwd=cwd)
    assert text.returncode == 0 and "missing.html" in text.stdout and "not_found" in text.stdout

    summary = json.loads(run("links", "--json", cwd=cwd).stdout)
    assert (summary["cited"], summary["dead"], summary["healthy"], summary["by_outcome"]) == (2, 1, 1, {"not_found": 1, "ok": 1})
    assert "dead" in run("links", cwd=cwd).stdout

    history = json.loads(run("links", "history", gone, "--json", cwd=cwd).stdout)
    assert [c["outcome"] for c in history["checks"]] == ["not_found", "not_found"]
    assert history["checks"][0]["http_status"] == 404 and history["measures"]
    assert "not_found" in run("links", "history", gone, cwd=cwd).stdout
    unknown = run("links", "history", "https://nowhere.example.jp/", cwd=cwd)
    assert unknown.returncode == 2 and "no link 'https://nowhere.example.jp/'" in unknown.stderr


def test_check_no_links_checks_none(workdir):
    cwd, _, _ = workdir
    report = json.loads(run("check", "--no-links", "--json", cwd=cwd).stdout)
    assert report["links"]["checked"] == 0
    assert json.loads(run("links", "--json", cwd=cwd).stdout)["unchecked"] == 2
