"""The guard's verdict on a parsed list, as pure logic: a truncated, emptied or reshaped list is
suspect (one line saying why) instead of a wave of ``ended`` events. Growth is pinned in
test_guard_both_ways.py."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import GuardSettings, SourceConfig, parse_config
from monitor.lists.guard import judge_list
from monitor.lists.records import ParsedList, Record

COLUMNS = ["施策", "担当部署"]


def source(**extra: Any) -> SourceConfig:
    entry = {"id": "s", "title": "t", "url": "https://example.jp/a.txt", "key_columns": ["施策"], "name_column": "施策", **extra}
    return parse_config({"sources": [entry]}).sources[0]


def listed(count: int, columns: list[str] = COLUMNS, errors: list[str] | None = None) -> ParsedList:
    records = [Record({column: f"{column}{n}" for column in columns}, f"line {n}") for n in range(count)]
    return ParsedList(columns=columns, records=records, errors=errors or [])


@pytest.mark.parametrize(("before", "after", "suspect"), [
    (44, 22, False),   # losing exactly half is not more than the default 50%
    (44, 21, True),    # a half-published file
    (44, 1, True),     # a page that kept only its first row
    (2, 1, False),     # one of two ending is ordinary
])
def test_a_list_that_lost_more_than_half_its_rows_is_suspect(before: int, after: int, suspect: bool) -> None:
    assert (judge_list(listed(after), source(), GuardSettings(), before) is not None) == suspect


def test_the_reason_names_both_counts_and_the_setting() -> None:
    assert judge_list(listed(21), source(), GuardSettings(), 44) == (
        "21 rows where the last good version had 44: more than 50% lost at once (guard.max_loss_share)")


def test_a_source_may_be_stricter_about_losses_than_the_guard() -> None:
    strict = source(max_loss_share=0.1)
    assert judge_list(listed(39), strict, GuardSettings(), 44) == (
        "39 rows where the last good version had 44: more than 10% lost at once (guard.max_loss_share)")
    assert judge_list(listed(40), strict, GuardSettings(), 44) is None


def test_the_first_version_is_never_judged_against_a_previous_count() -> None:
    assert judge_list(listed(1), source(), GuardSettings(), None) is None


def test_an_empty_list_is_suspect_even_the_first_time() -> None:
    assert judge_list(listed(0), source(), GuardSettings(), None) == "0 rows under the header (at least 1 expected)"
    assert judge_list(listed(4), source(), GuardSettings(min_records=5), 4) == "4 rows under the header (at least 5 expected)"


def test_a_configured_key_column_that_left_the_header_is_named() -> None:
    renamed = listed(44, ["事業名", "担当部署"])
    assert judge_list(renamed, source(), GuardSettings(), 44) == ("column '施策' is missing; the header is now: 事業名, 担当部署 "
                                                                   "(if it was renamed, set column_aliases: {<new header>: '施策'})")


def test_the_parser_s_own_reason_comes_first_and_says_how_many_more() -> None:
    broken = listed(0, [], errors=["page 1: no text", "page 2: no text", "page 3: no text"])
    assert judge_list(broken, source(), GuardSettings(), 44) == "page 1: no text (and 2 more)"
