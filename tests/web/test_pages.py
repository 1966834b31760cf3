"""Every page over HTTP (uvicorn on loopback), on a database the real pipeline built.

Runs once on SQLite and once on PostgreSQL (``web_db``)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.conftest import LONG_NAME, PHONE_NAME, XSS_URL, app_for, serving


def test_overview_shows_each_source_and_the_latest_changes(served):
    db, client = served
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="ja">' in html and "監視中の一覧" in html
    assert 'href="/sources/tama"' in html and 'href="/sources/nationwide"' in html
    assert "令和4年4月1日時点" in html  # the nationwide list's edition
    assert "名称変更 1" in html and "変更 3" in html  # recent counts of tama
    assert f'href="/measures/{db.phone_measure}"' in html
    assert "リンク切れ: https://tama120.metro.tokyo.lg.jp/" in html


def test_changes_are_newest_first_and_filtered_by_source_kind_and_days(served):
    db, client = served
    everything = client.get("/changes").text
    times = re.findall(r'<time datetime="([^"]+)"', everything)
    assert times == sorted(times, reverse=True) and len(times) == 9
    changed = client.get("/changes", params={"source": "tama", "kind": "changed"}).text
    assert changed.count('class="badge changed"') == 3 and "名称変更" not in changed.split("</form>")[1]
    first_day = client.get("/changes", params={"from": "2026-04-02", "to": "2026-04-02"}).text
    assert "まちづくり推進コンシェルジュ" in first_day and "03-5388-7777" not in first_day and "産業交流展2026" not in first_day
    empty_form = client.get("/changes?source=&kind=&from=&to=&page=")
    assert empty_form.status_code == 200 and len(re.findall("<time ", empty_form.text)) == 9


def test_changes_are_paginated(web_db):
    with serving(app_for(web_db, page_size=4)) as base, httpx.Client(base_url=base) as client:
        pages = [client.get("/changes", params={"page": n}).text for n in (1, 2, 3, 4)]
    ids = [re.findall(r'<li id="e(\d+)"', page) for page in pages]
    assert [len(i) for i in ids] == [4, 4, 1, 0]
    assert len({i for page in ids for i in page}) == 9
    assert 'rel="next" href="/changes?page=2"' in pages[0] and 'rel="prev"' not in pages[0]
    assert 'rel="prev" href="/changes?page=2"' in pages[2] and 'rel="next"' not in pages[2]


def test_source_page_shows_the_list_now_and_as_it_stood_on_a_day(served):
    _, client = served
    now = client.get("/sources/tama").text
    before = client.get("/sources/tama", params={"as_of": "2026-04-01"}).text
    assert "現在の一覧 — 44 件" in now and "2026-04-01 時点の一覧 — 44 件" in before
    assert "まちづくり推進コンシェルジュ" in before and "まちづくり推進コンシェルジュ" not in now
    assert "&lt;script&gt;" in now and "&lt;script&gt;" not in before
    assert "03-5388-7777" in now and "03-5388-2443" in before
    assert client.get("/sources/tama", params={"as_of": "2026-03-01"}).text.count("— 0 件") == 1
    assert "0001-01-01 時点の一覧 — 0 件" in client.get("/sources/tama", params={"as_of": "0001-01-01"}).text
    assert "9999-12-31 時点の一覧 — 44 件" in client.get("/sources/tama", params={"as_of": "9999-12-31"}).text


def test_measure_page_shows_every_version_with_changed_fields_highlighted(served):
    db, client = served
    html = client.get(f"/measures/{db.phone_measure}").text
    assert f"<h1>{PHONE_NAME}</h1>" in html
    assert [int(n) for n in re.findall(r'<section class="version" id="v(\d+)"', html)] == [3, 2, 1]
    changed = re.findall(r'<tr class="changed"><th>(.*?)<span class="tag">変更</span></th><td>(.*?)</td></tr>', html, re.S)
    assert [column for column, _ in changed] == ["連絡先", "連絡先"]
    assert "<del>03-5388-9999</del> → <ins>03-5388-7777</ins>" in changed[0][1]
    assert "<del>03-5388-2443</del> → <ins>03-5388-9999</ins>" in changed[1][1]


def test_long_text_changes_are_shown_word_by_word(served):
    db, client = served
    html = client.get(f"/measures/{db.long_measure}").text
    assert LONG_NAME in html
    diff = re.search(r'<span class="diff">(.*?)</span>', html, re.S).group(1)
    assert "<ins>詳細な</ins>検討調査" in diff and "<del>技術支援</del><ins>技術的な支援</ins>" in diff
    assert diff.count("<ins>") == 2 and "都市機能の再配置等" in diff


def test_link_pages_show_state_citing_measures_and_a_history_chart(served):
    db, client = served
    listing = client.get("/links").text
    assert f'href="/links/{db.dead_link}"' in listing
    dead_only = client.get("/links", params={"state": "dead"}).text
    assert re.findall(r'href="/links/(\d+)"', dead_only) == [str(db.dead_link)]
    html = client.get(f"/links/{db.dead_link}").text
    assert 'class="state dead">リンク切れ</span>' in html and "2026-04-03 06:00" in html  # dead since, Tokyo time
    assert "多摩の魅力発信プロジェクト(旧:多摩PR事業)" in html
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert svg.count('class="check healthy"') == 20 and svg.count('class="check failing"') == 10
    assert "<polyline" in svg and "応答時間 (ms)" in svg and ">2000<" in svg


def test_untrusted_text_renders_inert(served):
    db, client = served
    for path in ("/", "/changes", f"/measures/{db.xss_measure}", "/sources/tama", f"/links/{db.js_link}", "/links"):
        html = client.get(path).text
        assert "<script>" not in html and "<b>太字</b>" not in html and "<i>行政部</i>" not in html, path
        assert not re.search(r'href="\s*javascript:', html, re.I), path
    measure = client.get(f"/measures/{db.xss_measure}").text
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in measure and "&lt;b&gt;太字&lt;/b&gt; &amp; 記号" in measure
    link = client.get(f"/links/{db.js_link}").text
    assert f'<span class="url">{XSS_URL}</span>' in link


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/measures/999999", 404, "施策 999999 はありません"),
    ("/measures/abc", 404, "施策 abc はありません"),
    ("/measures/99999999999999999999", 404, "はありません"),
    ("/links/0", 404, "リンク 0 はありません"),
    ("/sources/nope", 404, "一覧 nope はありません"),
    ("/sources/nope/feed.atom", 404, "一覧 nope はありません"),
    ("/sources/tama?as_of=2025-13-40", 400, "日付 2025-13-40 は正しくありません"),
    ("/changes?page=-1", 400, "ページ番号 -1 は正しくありません"),
    ("/changes?page=0", 400, "ページ番号 0 は正しくありません"),
    ("/changes?from=2025-13-40", 400, "日付 2025-13-40"),
    ("/changes?from=2026-05-01&to=2026-04-01", 400, "開始日が終了日より後です"),
    ("/changes?kind=exploded", 400, "種類 exploded はありません"),
    ("/changes?source=NO%00PE", 404, "はありません"),
    ("/links?state=zombie", 400, "状態 zombie はありません"),
    ("/no/such/page", 404, "見つかりません"),
])
def test_bad_parameters_get_a_page_with_a_message(served, path, status, message):
    _, client = served
    page = client.get(path)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert message in page.text and '<p class="error">' in page.text


def test_only_get_and_head_are_answered(served):
    db, client = served
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        answer = client.request(method, f"/measures/{db.phone_measure}")
        assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    head = client.head("/feed.atom")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"].startswith("application/atom+xml")


def test_pages_forbid_scripts_and_outside_resources(served):
    _, client = served
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r'(src|href)="(https?:)?//', page.text.split("<main>")[0])  # nothing outside is loaded


def test_english_labels_with_language_en(web_db):
    with serving(app_for(web_db, language="en")) as base, httpx.Client(base_url=base) as client:
        html = client.get("/").text
        missing = client.get("/sources/tama?as_of=2025-13-40")
    assert '<html lang="en">' in html and "Watched lists" in html and "Renamed 1" in html
    assert missing.status_code == 400 and "2025-13-40 is not a date" in missing.text
