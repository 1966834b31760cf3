"""Cross-list matching compares content, never the name cell with itself (store.siblings)."""

from __future__ import annotations

from store.siblings import close_content


def test_a_name_cell_published_with_other_spaces_is_still_the_name_not_content():
    # Two unrelated measures under one generic name, one list writing it with a full-width
    # space, the other with a line break: their summaries differ, so they are not one measure.
    mine = {"施策": "地域連携\u3000推進事業", "概要": "道路と橋の整備を進める"}
    theirs = {"施策": "地域連携\n推進事業", "概要": "図書館の運営を支援する"}
    assert not close_content(mine, theirs, "地域連携 推進事業")


def test_the_same_measure_in_two_lists_is_close():
    mine = {"施策": "地域連携推進事業", "概要": "市町村と連携して道路と橋の整備を進める"}
    theirs = {"事業名": "地域連携推進事業", "内容": "市町村と連携して道路と橋の整備を進める。"}
    assert close_content(mine, theirs, "地域連携推進事業")
