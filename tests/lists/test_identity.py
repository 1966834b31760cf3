"""What a row is judged on, as pure logic: a key normalised (NFKC, whitespace) so that a
re-typed list pairs with the old one, and row numbers that never count as identity or change."""

from __future__ import annotations

from typing import Any

from monitor.config import SourceConfig, parse_config
from monitor.lists.identity import ignored_columns, make_entry, row_number_columns, stored_published
from monitor.lists.match import match_records
from monitor.lists.records import Record, published_form


def source(**extra: Any) -> SourceConfig:
    entry = {"id": "s", "title": "t", "url": "https://example.jp/a.txt", "key_columns": ["施策"], "name_column": "施策", **extra}
    return parse_config({"sources": [entry]}).sources[0]


def test_a_key_retyped_in_full_width_or_with_other_spaces_pairs_with_the_old_row_unchanged() -> None:
    old = make_entry({"施策": "ＤＸ推進事業　（第２期）", "担当部署": "デジタル サービス局"}, source(), [])
    new = make_entry({"施策": " DX推進事業 (第2期)\n", "担当部署": "デジタル\u3000サービス局"}, source(), [])
    assert (new.key, new.name) == ("DX推進事業 (第2期)", "DX推進事業 (第2期)")
    assert new.key == old.key and new.digest == old.digest
    matching = match_records([old], [new])
    assert (matching.pairs, matching.similar, matching.added, matching.ended) == ([(0, 0)], set(), [], [])


def test_the_same_name_under_two_departments_is_two_measures() -> None:
    two_keys = source(key_columns=["施策", "担当部署"])
    env = make_entry({"施策": "燃料電池バス導入促進事業", "担当部署": "環境局"}, two_keys, [])
    ind = make_entry({"施策": "燃料電池バス導入促進事業", "担当部署": "産業労働局"}, two_keys, [])
    assert (env.key, ind.key) == ("燃料電池バス導入促進事業 | 環境局", "燃料電池バス導入促進事業 | 産業労働局")
    assert sorted(match_records([env, ind], [ind, env]).pairs) == [(0, 1), (1, 0)]


def test_an_empty_mark_is_the_same_content_as_an_empty_cell() -> None:
    dashed = make_entry({"施策": "A事業", "備考": "-"}, source(), [])
    blank = make_entry({"施策": "A事業", "備考": ""}, source(), [])
    assert dashed.digest == blank.digest


def numbered(names: list[str], header: str = "No.") -> list[Record]:
    return [Record({header: str(n), "施策": name}) for n, name in enumerate(names, start=1)]


def test_row_numbers_are_found_by_header_or_by_counting_up() -> None:
    records = numbered(["A事業", "B事業"], "項目")
    assert row_number_columns(["項目", "施策"], records) == ["項目"]
    assert row_number_columns(["No.", "施策"], [Record({"No.": "", "施策": "A事業"})]) == ["No."]
    gaps = [Record({"番": n, "施策": "x"}) for n in ("1", "3")]
    assert row_number_columns(["番", "施策"], gaps) == []


def test_a_row_inserted_above_does_not_change_the_rows_below_it() -> None:
    before, after = numbered(["A事業", "C事業"]), numbered(["A事業", "B事業", "C事業"])
    ignore = ignored_columns(source(), ["No.", "施策"], after)
    assert ignore == ["No."]
    c_before, c_after = (make_entry(rows[-1].cells, source(), ignore) for rows in (before, after))
    assert c_before.digest == c_after.digest


def test_configured_ignore_columns_replace_the_detection_and_a_key_is_never_ignored() -> None:
    records = numbered(["A事業", "B事業"])
    assert ignored_columns(source(ignore_columns=["更新日"]), ["No.", "施策", "更新日"], records) == ["更新日"]
    by_number = source(key_columns=["No."])
    assert ignored_columns(by_number, ["No.", "施策"], records) == []


def test_a_stored_row_under_another_header_is_never_taken_as_published_unchanged() -> None:
    fields = {"施策": "A事業", "担当部署": "総務局"}
    assert stored_published(fields, ("施策", "担当部署")) == published_form(fields.values())
    assert stored_published(fields, ("事業名", "担当部署")) is None
