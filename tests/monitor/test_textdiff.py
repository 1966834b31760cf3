"""Word diffs: phrase-sized pieces for Japanese, words for latin text, long sames shortened."""

from __future__ import annotations

from monitor.textdiff import DiffRun, tokenize, word_diff
from tests.notifiers.samples import LONG_NEW, LONG_OLD


def test_japanese_is_cut_into_script_runs_and_latin_into_words() -> None:
    assert tokenize("東京都の補助金を交付します。Tokyo Metro 2024年度") == [
        "東京都",
        "の",
        "補助金",
        "を",
        "交付",
        "します",
        "。",
        "Tokyo",
        " ",
        "Metro",
        " ",
        "2024",
        "年度",
    ]


def test_diff_shows_the_changed_phrases_only() -> None:
    runs = word_diff(LONG_OLD, LONG_NEW)
    deleted = [run.text for run in runs if run.op == "delete"]
    inserted = [run.text for run in runs if run.op == "insert"]
    assert deleted == ["する地域の活性化に資する", "2", "1"]
    assert inserted == ["するまちづくりの", "3", "2"]


def test_latin_text_diffs_by_word() -> None:
    runs = word_diff("the grant covers half of the cost", "the grant covers two thirds of the cost")
    assert DiffRun("delete", "half") in runs
    assert DiffRun("insert", "two thirds") in runs


def test_long_unchanged_stretches_are_shortened_and_the_rest_rebuilds_both_texts() -> None:
    head, tail = "事業。" * 60, "。計画" * 60
    old, new = head + "旧" + tail, head + "新" + tail
    runs = word_diff(old, new, context=10)
    assert runs == (
        DiffRun("equal", "…" + head[-10:]),
        DiffRun("delete", "旧"),
        DiffRun("insert", "新"),
        DiffRun("equal", tail[:10] + "…"),
    )
    full = word_diff(old, new, context=1000)
    assert "".join(r.text for r in full if r.op != "insert") == old
    assert "".join(r.text for r in full if r.op != "delete") == new
