"""The HTML digest's summary table in a real browser: a kind's label (取得失敗, 一覧の異常) is one
word and never breaks inside, on a phone (390 px) or a desktop (1200 px)."""

from __future__ import annotations

from tests.web.test_browser import LINES, _digest_file, browser_page  # noqa: F401 (a fixture)


def test_digest_summary_labels_stay_on_one_line_at_phone_and_desktop_width(browser_page, tmp_path):  # noqa: F811
    page, _ = browser_page
    page.goto(_digest_file(tmp_path).as_uri())
    labels = page.locator("table.summary th.label")
    texts = [cell.inner_text() for cell in labels.all()]
    assert any("失敗" in text for text in texts) and len(texts) > 10
    for width in (390, 1200):
        page.set_viewport_size({"width": width, "height": 844})
        broken = {text: lines for text, lines in zip(texts, (cell.evaluate(LINES) for cell in labels.all())) if lines != 1}
        assert broken == {}, f"at {width} px"
