from datetime import date
from pathlib import Path

import pytest
import yaml

from monitor.lists.cells import extract_end_date, extract_urls, read_edition

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "end_dates.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[case["text"] or "(empty)" for case in CASES])
def test_end_date_from_remarks(case):
    assert extract_end_date(case["text"]) == case["end"]


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
