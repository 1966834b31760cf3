"""Index links matched by their context: the real Tama and nationwide pages' structure, served on
loopback and run through the real check (SQLite and PostgreSQL)."""

from __future__ import annotations

import html

import pytest

from monitor.demo.site import Route
from monitor.lists.index_links import edition_free, index_links, note_free
from monitor.runtime.check import open_store, run_check
from tests.conftest import NATIONWIDE, make_config, seed_text, source_entry
from tests.lists.documents import HTML
from tests.lists.test_families import strategy_text
from tests.runtime.test_check import clock

PAGE = "/seisaku/tama/shien.html"
# 多摩のまちづくり戦略's seven strategies, as the page's list items begin.
STRATEGIES = ["新たな道路・交通ネットワークをいかした拠点の形成", "人・モノ・情報の自由自在な交流を実現", "地域の特性をいかした産業の活性化",
              "みどり豊かで潤いのある環境の形成", "安全・安心なまちの実現", "誰もが暮らしやすい住環境の形成", "多様な主体による地域づくり"]
CONTEXT = ["text", "title", "item", "heading"]


def tama_page(size: str = "245KB", numbered: bool = True, year: str = "r6") -> bytes:
    """The page as 都市整備局 prints it: an introduction with its own PDFs, then the heading and one item per strategy."""
    items = "".join(
        f"<li>{'【戦略' + str(n) + '】' if numbered else ''}{html.escape(name)}"
        f"<a href='/seisaku/tama/{year}/s{n}.txt'>施策一覧（テキスト：{size}）</a></li>"
        for n, name in enumerate(STRATEGIES, start=1)
    )
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>多摩のまちづくり支援</title></head><body>"
            f"<h2>多摩のまちづくり戦略</h2><ul><li><a href='/seisaku/tama/kihon.pdf'>多摩のまちづくり戦略の基本的考え方PDFファイル3.4MB)</a></li>"
            f"<li><a href='/seisaku/tama/gaiyo.xlsx'>概要版XLSX(約254KB)</a></li></ul>"
            f"<h2>地元自治体が活用できる施策</h2><p>以下の7つの戦略ごとに、地元自治体が活用できる施策をまとめました。</p>"
            f"<ul class='list'>{items}</ul><h2>お問い合わせ</h2><p><a href='/contact.html'>都市整備局</a></p></body></html>").encode("utf-8")


def publish_tama(site, year: str = "r6", **page) -> None:
    for number in range(1, 8):
        site.publish(f"/seisaku/tama/{year}/s{number}.txt", Route(strategy_text(2).replace("【戦略2】", f"【戦略{number}】").encode("utf-8")))
    site.publish(PAGE, Route(tama_page(year=year, **page), content_type=HTML))


def tama_entry(site, **overrides):
    settings = {"kind": "index", "link_pattern": "地元自治体が活用できる施策", "link_context": CONTEXT, "link_id_pattern": r"戦略\s*([1-7])"}
    return source_entry("tama", site.url(PAGE), **{**settings, **overrides})


def test_the_strategies_are_found_by_their_heading_and_named_by_their_items(site, database_url):
    publish_tama(site)
    config = make_config(database_url, tama_entry(site))
    report = run_check(config, open_store(config), clock=clock())
    assert [(s.id, s.status, s.records) for s in report.sources] == [("tama", "baseline", 7)] + [(f"tama-{n}", "baseline", 15) for n in range(1, 8)]


def test_without_the_context_the_links_alone_do_not_say_which_list_they_are(site, database_url):
    publish_tama(site)
    config = make_config(database_url, tama_entry(site, link_context=None))
    index = run_check(config, open_store(config), clock=clock()).sources[0]
    assert index.status == "suspect" and "matches link_pattern" in (index.error or "")


def test_a_new_year_new_file_sizes_and_no_strategy_numbers_keep_every_list(site, database_url):
    """Named by the item's strategy name (no 【戦略N】): next year's files, sizes and URLs are the same lists."""
    publish_tama(site, numbered=False)
    config = make_config(database_url, tama_entry(site, link_id_pattern=None))
    sessions, tick = open_store(config), clock()
    first = run_check(config, sessions, clock=tick)
    ids = [s.id for s in first.sources[1:]]
    assert len(set(ids)) == 7 and first.sources[1].records == 15
    publish_tama(site, numbered=False, size="1.2MB", year="r7")
    again = run_check(config, sessions, clock=tick)
    assert [s.id for s in again.sources[1:]] == ids
    assert (again.sources[0].status, again.sources[0].lists_added, again.sources[0].lists_removed) == ("unchanged", [], [])


def test_the_nationwide_pdf_keeps_its_id_across_yearly_urls(site, database_url):
    def page(year: int, path: str) -> bytes:
        return (f"<html><body><h2>東京都が実施する連携事業</h2><ul><li><a href='{path}'>全国各地との連携事業一覧（令和{year}年4月1日時点）（PDF：512KB）</a></li>"
                f"<li><a href='/news/index.html'>お知らせ一覧</a></li></ul></body></html>").encode("utf-8")
    site.publish("/r6/list.txt", Route(seed_text(NATIONWIDE).encode("utf-8")))
    site.publish("/attempt-tokyo/", Route(page(6, "/r6/list.txt"), content_type=HTML))
    entry = source_entry("nationwide", site.url("/attempt-tokyo/"), kind="index", link_pattern="全国各地との連携事業一覧")
    config = make_config(database_url, entry)
    sessions, tick = open_store(config), clock()
    first = run_check(config, sessions, clock=tick)
    site.publish("/r7/list-r7.txt", Route(seed_text(NATIONWIDE).encode("utf-8")))
    site.publish("/attempt-tokyo/", Route(page(7, "/r7/list-r7.txt"), content_type=HTML))
    second = run_check(config, sessions, clock=tick)
    assert [s.id for s in first.sources] == [s.id for s in second.sources] and len(first.sources) == 2
    assert second.sources[0].lists_added == [] and second.sources[0].lists_removed == []


@pytest.mark.parametrize(("text", "title"), [
    ("多摩のまちづくり戦略の基本的考え方PDFファイル3.4MB)", "多摩のまちづくり戦略の基本的考え方"),
    ("【戦略2】人・モノ（PDF:245KB）", "【戦略2】人・モノ"),
    ("施策一覧XLSX(約254KB)", "施策一覧"),
    ("List of measures [Excel 30KB] (1.2MB)", "List of measures"),
    ("全国各地との連携事業一覧(PDF)", "全国各地との連携事業一覧"),
])
def test_file_notes_never_reach_a_title(text, title):
    assert note_free(text) == title


def test_dates_of_an_edition_never_reach_an_id():
    assert edition_free("全国各地との連携事業一覧（令和7年4月1日時点）（PDF：512KB）") == "全国各地との連携事業一覧"
    assert edition_free("令和6年度 全国各地との連携事業一覧(PDF)") == "全国各地との連携事業一覧"


def test_the_parts_of_a_link_that_context_names_are_searched():
    page = tama_page().decode("utf-8")
    assert [link.id_name for link in index_links(page, "https://x.lg.jp/", "施策", r"戦略\s*(\d)", ["item"])] == [str(n) for n in range(1, 8)]
    assert index_links(page, "https://x.lg.jp/", "地元自治体", None, ["text", "title", "href"]) == []
    titled = "<h3>施策</h3><a href='/a.pdf' aria-label='戦略3 一覧'><img alt='icon'></a>"
    assert [link.id_name for link in index_links(titled, "https://x.lg.jp/", "戦略", r"戦略(\d)", ["title"])] == ["3"]


def test_each_link_takes_the_nearest_heading_before_it_and_its_own_item():
    # Headings and items are read once a page (a page of thousands of links was quadratic):
    # each link still gets the heading just before it, or the one it is in, and its own row.
    from monitor.lists.index_links import index_links

    html = """<a href="/0.csv">施策一覧 0</a>
    <h2>補助金</h2><ul><li>甲 <a href="/1.csv">一覧 1</a></li><li>乙 <a href="/2.csv">一覧 2</a></li></ul>
    <h3>施策 <a href="/3.csv">一覧 3</a></h3><table><tr><td>丙 <a href="/4.csv">一覧 4</a> <a href="/5.csv">一覧 5</a></td></tr></table>"""
    found = index_links(html, "https://example.lg.jp/", "補助金|施策", r"(\d)", ("text", "item", "heading"))
    assert [(link.url.rsplit("/", 1)[-1], link.title) for link in found] == [
        ("0.csv", "施策一覧 0"), ("1.csv", "甲 一覧 1"), ("2.csv", "乙 一覧 2"), ("3.csv", "一覧 3"),
        ("4.csv", "丙 一覧 4 一覧 5"), ("5.csv", "丙 一覧 4 一覧 5")]
    by_heading = index_links(html, "https://example.lg.jp/", "^補助金$", None, ("heading",))
    assert [link.url.rsplit("/", 1)[-1] for link in by_heading] == ["1.csv", "2.csv"]
