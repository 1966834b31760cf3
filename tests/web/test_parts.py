"""The parts on their own: word diff, chart, link hrefs, access control, the serve command."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner

from monitor.cli import cli
from web.chart import history_chart, nice_ceiling
from web.labels import labels_for
from web.params import safe_href
from web.schemas import CheckView
from monitor.events import FieldChange
from monitor.textdiff import tokenize, word_diff
from web.textdiff import shown_changes
from tests.web.conftest import app_for, serving


def test_japanese_is_split_into_runs_of_one_script():
    assert tokenize("令和8年度まで補助金を交付") == ["令和", "8", "年度", "まで", "補助金", "を", "交付"]
    assert tokenize("スマート東京 project") == ["スマート", "東京", " ", "project"]


def test_word_diff_changes_only_the_run_that_changed():
    runs = [(r.op, r.text) for r in word_diff("令和8年度まで", "令和10年度まで")]
    assert runs == [("equal", "令和"), ("delete", "8"), ("insert", "10"), ("equal", "年度まで")]


def test_stored_changes_are_shown_as_stored_with_a_whole_word_diff_for_long_texts():
    long = "補助金を交付する。" * 5
    changes = shown_changes({"電話": FieldChange("03-1", "03-2"), "概要": FieldChange(long, long + "新設")})
    assert list(changes) == ["電話", "概要"]
    assert changes["電話"].runs is None
    assert [r.model_dump() for r in changes["概要"].runs] == [{"op": "equal", "text": long}, {"op": "insert", "text": "新設"}]


@pytest.mark.parametrize(("url", "href"), [
    ("https://example.jp/a?b=c", "https://example.jp/a?b=c"), ("HTTP://EXAMPLE.JP/", "HTTP://EXAMPLE.JP/"),
    ("javascript:alert(1)", None), (" javascript:alert(1)", None), ("java\tscript:alert(1)", None),
    ("data:text/html,<script>", None), ("//evil.example/", None), ("https://a.jp/\n<x>", None), ("", None),
])
def test_only_plain_http_urls_become_links(url, href):
    assert safe_href(url) == href


def test_chart_draws_one_mark_per_check_and_escapes_its_text():
    start = datetime(2026, 4, 1, tzinfo=timezone.utc)
    checks = [CheckView(checked_at=start + timedelta(hours=i), outcome=o, http_status=None, elapsed_ms=ms, final_url=None, error=None)
              for i, (o, ms) in enumerate([("ok", 120), ("error", None), ("not_found", 480)])]
    svg = str(history_chart(checks, labels_for("en"), ZoneInfo("Asia/Tokyo")))
    assert svg.startswith("<svg") and svg.count('class="check ') == 3 and svg.count("<circle") == 2
    assert ">500<" in svg and "2026-04-01 09:00" in svg
    assert history_chart([], labels_for("ja"), ZoneInfo("UTC")) == ""
    assert [nice_ceiling(v) for v in (0, 7, 120, 480, 1000, 1001)] == [1, 10, 200, 500, 1000, 2000]


def test_a_token_or_a_password_is_required_when_configured(sqlite_db):
    with serving(app_for(sqlite_db, token="s3cret", password="pass word")) as base, httpx.Client(base_url=base) as client:
        assert client.get("/").status_code == 401
        assert client.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        basic = "Basic " + base64.b64encode("sesaku:pass word".encode()).decode()
        assert client.get("/feed.atom", headers={"Authorization": basic}).status_code == 200
        refused = client.get("/api/sources", headers={"Authorization": "Basic !!!"})
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert client.post("/", headers={"Authorization": "Bearer s3cret"}).status_code == 405


def test_serve_is_a_documented_command():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "sesaku-monitor serve --config config.yaml" in result.output


def test_a_link_table_marks_links_cited_only_by_a_past_version():
    from web.app import _templates
    from web.schemas import CitedLink, LinkSummary

    macros = _templates(labels_for("ja"), ZoneInfo("Asia/Tokyo")).get_template("macros.html").make_module({"root": ""})
    common = {"state": "ok", "outcome": "ok", "http_status": 200, "since": None, "last_checked_at": None, "consecutive_failures": 0}
    cited = str(macros.link_table([CitedLink(id=1, url="https://a.example.jp/", current=True, **common),
                                   CitedLink(id=2, url="https://b.example.jp/", current=False, **common)]))
    listed = str(macros.link_table([LinkSummary(id=3, url="https://c.example.jp/", **common)]))
    assert cited.count("過去の版") == 1 and cited.index("https://b.example.jp/") < cited.index("過去の版")
    assert 'href="/links/3"' in listed and "過去の版" not in listed
