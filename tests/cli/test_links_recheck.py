"""``links --recheck [URL | --dead | --all]``: links checked now, through the installed command."""

from __future__ import annotations

import json

import pytest
import yaml

from monitor.demo.site import Route
from tests.cli.test_cli import run
from tests.conftest import source_entry
from tests.links.health import FAST_LINKS, citing_list, page


@pytest.fixture
def workdir(tmp_path, site, database_url):
    notice, ok = site.url("/pages/notice.html"), site.url("/pages/ok.html")
    site.publish("/pages/notice.html", page("お知らせ", "募集中"))
    site.publish("/pages/ok.html", page("制度", "受付中"))
    site.publish("/tama.txt", Route(citing_list([notice], ok).encode("utf-8")))
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True},
              "sources": [source_entry("tama", site.url("/tama.txt"))], "links": {**FAST_LINKS, "dead_after": 2}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert json.loads(run("check", "--json", cwd=tmp_path).stdout)["links"]["checked"] == 2
    return tmp_path, notice, ok


def _recheck(cwd, *args: str) -> dict:
    done = run("links", "--recheck", *args, "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_recheck_checks_a_healthy_link_now_and_records_it(workdir, site):
    cwd, notice, _ = workdir
    site.remove("/pages/notice.html")
    # A healthy link waits a day before its next check: only --recheck sees the page gone today.
    assert json.loads(run("check", "--json", cwd=cwd).stdout)["links"]["checked"] == 0
    first = _recheck(cwd, notice)
    assert first["checked"] == 1 and first["skipped"] == []
    (link,) = first["links"]
    assert (link["url"], link["outcome"], link["http_status"], link["change"]) == (notice, "not_found", 404, None)
    history = json.loads(run("links", "history", notice, "--json", cwd=cwd).stdout)
    assert [check["outcome"] for check in history["checks"]] == ["ok", "not_found"]
    # The second failing check makes it dead, as in a links run: an event, and `links --dead` lists it.
    (dead,) = _recheck(cwd, notice)["links"]
    assert dead["change"] == "dead" and dead["since"] is not None
    (listed,) = json.loads(run("links", "--dead", "--json", cwd=cwd).stdout)
    assert listed["url"] == notice
    # The recheck left it dead, so its repairs were checked: the page's stored copy is one.
    assert [(r["url"], r["reason"]) for r in listed["repairs"]] == [(notice, "snapshot")]
    shown = run("links", "--dead", cwd=cwd, env={"COLUMNS": "200"}).stdout
    assert f"instead: the web view's /links/{listed['id']}/snapshot (the last stored copy of the page)" in shown
    text = run("links", "--recheck", notice, cwd=cwd)
    assert text.returncode == 0 and "not_found" in text.stdout and "1 link(s) checked now" in text.stdout


def test_recheck_dead_and_all(workdir, site):
    cwd, notice, ok = workdir
    site.remove("/pages/notice.html")
    _recheck(cwd, notice)
    _recheck(cwd, notice)
    site.publish("/pages/notice.html", page("お知らせ", "再開"))
    recovered = _recheck(cwd, "--dead")
    assert [(link["url"], link["outcome"], link["change"]) for link in recovered["links"]] == [(notice, "ok", "recovered")]
    assert _recheck(cwd, "--dead") == {"checked": 0, "links": [], "skipped": []}
    every = _recheck(cwd, "--all")
    assert every["checked"] == 2 and {link["url"] for link in every["links"]} == {notice, ok}


def test_recheck_says_what_it_needs(workdir):
    cwd, notice, _ = workdir
    alone = run("links", "--recheck", cwd=cwd)
    assert alone.returncode == 2 and "--recheck needs one of: a URL, --dead or --all" in alone.stderr
    both = run("links", "--recheck", notice, "--all", cwd=cwd)
    assert both.returncode == 2 and "--recheck needs one of" in both.stderr
    unknown = run("links", "--recheck", "https://nowhere.example.jp/x.html", cwd=cwd)
    assert unknown.returncode != 0 and "no link 'https://nowhere.example.jp/x.html' is known" in unknown.stderr
    assert unknown.stderr.count("\n") == 1
