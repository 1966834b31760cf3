"""Deriving later "versions" of a seed list, as a government would revise it."""

from __future__ import annotations

from collections.abc import Callable

Edit = Callable[[list[list[str]]], None]


def split_rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.split("\n")]


def join_rows(rows: list[list[str]]) -> str:
    return "\n".join("\t".join(cells) for cells in rows)


def find_row(rows: list[list[str]], column: int, value: str, occurrence: int = 1) -> int:
    seen = 0
    for index, cells in enumerate(rows):
        if len(cells) > column and cells[column] == value:
            seen += 1
            if seen == occurrence:
                return index
    raise KeyError(value)


def derive(text: str, *edits: Edit) -> str:
    rows = split_rows(text)
    for edit in edits:
        edit(rows)
    return join_rows(rows)


def set_cell(column: int, match: str, target: int, value: str, occurrence: int = 1) -> Edit:
    def edit(rows: list[list[str]]) -> None:
        rows[find_row(rows, column, match, occurrence)][target] = value
    return edit


def remove_row(column: int, match: str, occurrence: int = 1) -> Edit:
    def edit(rows: list[list[str]]) -> None:
        del rows[find_row(rows, column, match, occurrence)]
    return edit


def insert_row(after_column: int, after_match: str, cells: list[str]) -> Edit:
    def edit(rows: list[list[str]]) -> None:
        rows.insert(find_row(rows, after_column, after_match) + 1, list(cells))
    return edit


def move_row(column: int, match: str, before_column: int, before_match: str) -> Edit:
    def edit(rows: list[list[str]]) -> None:
        row = rows.pop(find_row(rows, column, match))
        rows.insert(find_row(rows, before_column, before_match), row)
    return edit


def page_break_before(column: int, match: str, header_row: int) -> Edit:
    """A new page break: a blank line and the header repeated, as text extraction gives it."""
    def edit(rows: list[list[str]]) -> None:
        header = list(rows[header_row])
        index = find_row(rows, column, match)
        rows[index:index] = [[""], header]
    return edit
