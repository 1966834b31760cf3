"""Parsers over the seed lists and their broken variants (no database, no network)."""

from __future__ import annotations

import pytest

from monitor.errors import ConfigError, ParseError
from monitor.lists.parsers import Document, parse_document
from tests.conftest import NATIONWIDE, TAMA, seed_text


def parse(text: str | bytes, fmt: str = "auto", **options):
    body = text.encode("utf-8") if isinstance(text, str) else text
    return parse_document(Document(body, url="list"), fmt, options)


def test_nationwide_seed_skips_repeated_headers_and_title():
    parsed = parse(seed_text(NATIONWIDE), "text-table")
    assert len(parsed.records) == 79
    assert [r.cells["No."] for r in parsed.records] == [str(n) for n in range(1, 80)]
    assert parsed.columns[4] == "事業名"
    assert parsed.title.startswith("令和4年度 全国各地との連携事業一覧")
    assert parsed.edition == "令和4年4月1日時点"


def test_tama_seed_keeps_empty_cells_and_duplicate_names():
    parsed = parse(seed_text(TAMA))
    assert len(parsed.records) == 44
    names = [r.cells["施策"] for r in parsed.records]
    assert names.count("燃料電池バス導入促進事業") == 2
    concierge = parsed.records[2]
    assert concierge.cells["URL"] == "" and concierge.normalized["連絡先"] == "03-5388-2443"


def test_dash_means_empty_in_normalised_values():
    record = parse(seed_text(NATIONWIDE), "text-table").records[1]
    assert record.cells["関係自治体(過去)"] == "-" and record.normalized["関係自治体(過去)"] == ""


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-16"])
def test_encodings_parse_to_the_same_records(encoding):
    expected = parse(seed_text(TAMA)).records
    assert parse(seed_text(TAMA).encode(encoding), "text-table").records == expected


def test_euc_jp_parses_to_the_same_records():
    text = seed_text(TAMA).replace("①", "1").replace("②", "2").replace("③", "3")
    assert parse(text.encode("euc_jp"), "text-table").records == parse(text).records


def test_html_table_gives_the_same_records_as_text():
    text = parse(seed_text(TAMA))
    rows = "".join("<tr>" + "".join(f"<td>{r.cells[c]}</td>" for c in text.columns) + "</tr>" for r in text.records)
    header = "<tr>" + "".join(f"<th>{c}</th>" for c in text.columns) + "</tr>"
    html = f"<html><head><meta charset='shift_jis'><title>戦略2</title></head><body><table class='nav'><tr><td>menu</td></tr></table><table>{header}{rows}</table></body></html>"
    parsed = parse(html.encode("cp932"), "html-table", header_contains="施策")
    assert [r.normalized for r in parsed.records] == [r.normalized for r in text.records]


def test_html_rowspan_and_links_are_expanded():
    html = """<table><tr><th>施策</th><th>担当部署</th><th>URL</th></tr>
    <tr><td>A事業</td><td rowspan="2">総務局</td><td><a href="/a.html">詳細</a></td></tr>
    <tr><td>B事業</td><td><a href="https://example.lg.jp/b">詳細</a></td></tr></table>"""
    parsed = parse_document(Document(html.encode(), url="https://example.lg.jp/list/"), "html-table", {})
    assert [r.cells["担当部署"] for r in parsed.records] == ["総務局", "総務局"]
    assert parsed.records[0].links == {"URL": ["https://example.lg.jp/a.html"]}


def test_csv_with_quoted_multiline_cells():
    parsed = parse('施策,施策概要\n"A事業","一行目\n二行目"\nB事業,概要\n', "csv")
    assert [r.normalized["施策概要"] for r in parsed.records] == ["一行目 二行目", "概要"]


@pytest.mark.parametrize(("body", "message"), [
    ("<!DOCTYPE html><html><body>エラー</body></html>", "HTML page where a tab-separated list"),
    ("見出しのない文書\n本文のみ\n", "no header row"),
])
def test_broken_documents_raise_one_clear_line(body, message):
    with pytest.raises(ParseError, match=message):
        parse(body, "text-table")


def test_short_row_warns_and_long_row_with_text_is_an_error():
    parsed = parse("a\tb\tc\n1\t2\n1\t2\t3\t4\n")
    assert parsed.warnings == ["line 2: 2 cells where the header has 3; the missing cells are taken as empty"]
    assert parsed.errors == ["line 3: 4 cells where the header has 3; extra text '4'"]


def test_unknown_format_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown format 'xml'"):
        parse("a\tb", "xml")


def test_text_rows_keep_their_published_line_and_split_the_same_as_any_row():
    text = "一覧\n施策\t担当\tURL\nA事業\t総務局\thttps://a.example/\n\u3000\t \t\n施策 \t担当\tURL\nＢ事業\t財務局\n"
    parsed = parse(text)
    assert [r.cells for r in parsed.records] == [
        {"施策": "A事業", "担当": "総務局", "URL": "https://a.example/"},
        {"施策": "Ｂ事業", "担当": "財務局", "URL": ""},
    ]
    assert [r.published for r in parsed.records] == ["A事業\t総務局\thttps://a.example/", "Ｂ事業\t財務局\t"]
    assert [r.line for r in parsed.records] == ["line 3", "line 6"] and len(parsed.warnings) == 1
