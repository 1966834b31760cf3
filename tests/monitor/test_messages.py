"""Every English line the writers write is recognised and read in Japanese (monitor/messages.py);
a line no template knows, or an English reader, gets it as it was stored."""

from __future__ import annotations

import socket

import httpx
import pytest
from bs4 import BeautifulSoup

from monitor.config import GuardSettings
from monitor.config.formats import HtmlTableOptions
from monitor.errors import ParseError
from monitor.lists.guard import judge_list
from monitor.lists.parsers.html_table import pick_table
from monitor.lists.records import ParsedList
from monitor.messages import localized
from monitor.net_failures import failure_of
from tests.conftest import make_config, source_entry

SOURCE = make_config("sqlite://", source_entry("tama", "http://127.0.0.1/tama.txt")).sources[0]
COLUMNS = ["施策", "施策概要", "担当部署", "連絡先", "URL", "備考"]


def _judged(columns: list[str], rows: int, previous: int | None) -> str:
    found = judge_list(ParsedList(columns=columns, records=[None] * rows), SOURCE, GuardSettings(min_records=2), previous)  # type: ignore[list-item]
    assert found is not None
    return found


def _page_error(html: str, options: HtmlTableOptions) -> str:
    with pytest.raises(ParseError) as raised:
        pick_table(BeautifulSoup(html, "lxml"), options, "https://www.example.lg.jp/list.html")
    return str(raised.value)


def _dns_failure() -> str:
    return failure_of(httpx.ConnectError(f"nowhere.invalid: {socket.gaierror(-2, 'Name or service not known')}")).message


@pytest.mark.parametrize(("english", "japanese"), [
    (lambda: _page_error("<p>工事中</p>", HtmlTableOptions()),
     "https://www.example.lg.jp/list.html: ページに表（<table>）がありません（エラーページか、一覧が移動した可能性があります）"),
    (lambda: _page_error("<table></table>", HtmlTableOptions(header_contains="施策")),
     "https://www.example.lg.jp/list.html: 列 '施策' を含む表がありません"),
    (lambda: _judged(["事業", *COLUMNS[1:]], 5, None), "列 '施策' がありません。現在の見出し: 事業, 施策概要, 担当部署, 連絡先, URL, 備考"
     "（列名が変わったのなら column_aliases: {<新しい見出し>: '施策'} を設定してください）"),
    (lambda: _judged(COLUMNS, 1, None), "見出しの下に 1 行しかありません（2 行以上のはず）"),
    (lambda: _judged(COLUMNS, 10, 40), "10 行（前回の正常な版は 40 行）: 一度に 50% を超える行が消えました (guard.max_loss_share)"),
    (lambda: _judged(COLUMNS, 100, 40), "100 行（前回の正常な版は 40 行）: 一度に 100% を超える行が増えました (guard.max_growth_share)"),
    (lambda: failure_of(httpx.ConnectError("[Errno 111] Connection refused")).message, "接続できません: 接続を拒否されました"),
    (_dns_failure, "接続できません: nowhere.invalid: ホスト名が見つかりません（DNS で引けません）"),
    (lambda: failure_of(httpx.ReadTimeout("")).message, "時間切れ (ReadTimeout)"),
    (lambda: failure_of(httpx.RemoteProtocolError("peer closed")).message, "応答が途中で切れたか壊れています: peer closed"),
])
def test_what_a_writer_writes_reads_in_japanese(english, japanese):
    written = english()
    assert localized(written, "ja") == japanese
    assert localized(written, "en") == written


def test_a_line_no_template_knows_is_shown_as_stored():
    assert localized("the operator's own words: 工事中", "ja") == "the operator's own words: 工事中"
    assert localized(None, "ja") == ""
