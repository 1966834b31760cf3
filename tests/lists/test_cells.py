from datetime import date

import pytest

from monitor.lists.cells import extract_end_date, extract_urls, read_edition

END_DATES = {
    "令和12年度まで": date(2031, 3, 31),
    "R6年度まで 産業労働局共管": date(2025, 3, 31),
    "2030年度まで": date(2031, 3, 31),
    "令和9年度(申請受付は令和8年度まで)": date(2028, 3, 31),
    "令和9年度まで(申請受付は令和8年度まで) 環境局共管": date(2028, 3, 31),
    "申請期間：令和12年度まで（交付期間：令和13年度まで）": date(2032, 3, 31),
    "充電設備導入費は令和6年度まで 充電設備維持管理費は令和11年度まで 環境局共管": date(2030, 3, 31),
    "令和７年３月３１日まで": date(2025, 3, 31),
    "令和元年度まで": date(2020, 3, 31),
    "令和3年度は11道府県と連携して開催": None,
    "": None,
    "環境局共管": None,
}


@pytest.mark.parametrize("text", sorted(END_DATES))
def test_end_date_from_remarks(text):
    assert extract_end_date(text) == END_DATES[text]


URLS = {
    "【①整備費】 https://www.tokyo-co2down.jp/subsidy/hydrogen_sup 【②設備運営費・土地賃借料】 https://www.tokyo-co2down.jp/subsidy/hydrogen_act":
        ["https://www.tokyo-co2down.jp/subsidy/hydrogen_sup", "https://www.tokyo-co2down.jp/subsidy/hydrogen_act"],
    '掲載 <a href="https://www.ecosystem.metro.tokyo.lg.jp/members/">https://www.ecosystem.metro.tokyo.lg.jp/members/</a>':
        ["https://www.ecosystem.metro.tokyo.lg.jp/members/"],
    "東京の地域交通 https://example.lg.jp/kotsu/index.html 地域公共交通": ["https://example.lg.jp/kotsu/index.html"],
    "詳しくはｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｌｇ．ｊｐ／ａ．ｈｔｍｌ。": ["https://example.lg.jp/a.html"],
    "(https://example.lg.jp/x#section)、": ["https://example.lg.jp/x"],
    "javascript:alert(1) mailto:a@example.jp": [],
}


@pytest.mark.parametrize("text", sorted(URLS))
def test_urls_in_a_cell(text):
    assert extract_urls(text) == URLS[text]


def test_edition_from_a_title_line():
    assert read_edition("令和4年度 全国各地との連携事業一覧(令和4年4月1日時点)") == ("令和4年4月1日時点", date(2022, 4, 1))
    assert read_edition("【戦略2】 人・モノ・情報の自由自在な交流を実現") == ("", None)
