"""The ``xlsx`` format reads the lists as the workbooks in tests/fixtures/documents/ hold them."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from monitor.errors import ParseError
from monitor.lists.parsers import Document, detect_format, get_format, parse_document
from monitor.lists.records import ParsedList

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NATIONWIDE = "tokyo-nationwide-collaboration-r4"
TAMA = "tokyo-tama-strategy2-measures"


def parse_seed(name: str) -> ParsedList:
    return parse_document(Document((FIXTURES / f"{name}.txt").read_bytes(), url=f"{name}.txt"), "text-table")


def workbook_bytes(name: str) -> bytes:
    return (FIXTURES / "documents" / f"{name}.xlsx").read_bytes()


def parse_xlsx(body: bytes, options: dict[str, str] | None = None) -> ParsedList:
    return parse_document(Document(body, url="https://example.jp/list.xlsx"), "xlsx", options)


@pytest.mark.parametrize("name", [NATIONWIDE, TAMA])
def test_the_workbook_gives_the_records_of_the_text_list(name: str) -> None:
    seed, parsed = parse_seed(name), parse_xlsx(workbook_bytes(name))
    assert parsed.columns == seed.columns
    assert len(parsed.records) == len(seed.records)
    for expected, got in zip(seed.records, parsed.records, strict=True):
        for column in seed.columns:
            assert got.normalized[column] == expected.normalized[column], f"{got.line}, {column}"
    assert parsed.title == seed.title and parsed.errors == [] and parsed.warnings == []


def test_a_merged_cell_belongs_to_every_row_it_spans() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes(TAMA)))["一覧"]
    department = [m for m in sheet.merged_cells.ranges if m.min_col == m.max_col == 3 and m.max_row - m.min_row >= 2][0]
    records = {int(record.line.split()[-1]): record for record in parse_xlsx(workbook_bytes(TAMA)).records}
    text = sheet.cell(department.min_row, 3).value
    assert text
    assert [records[row].cells["担当部署"] for row in range(department.min_row, department.max_row + 1)] == [text] * department.size["rows"]


def test_the_merged_title_row_gives_the_title_and_edition() -> None:
    parsed = parse_xlsx(workbook_bytes(NATIONWIDE))
    assert parsed.title == "令和4年度 全国各地との連携事業一覧(令和4年4月1日時点)"
    assert parsed.as_of == date(2022, 4, 1)


def test_hyperlinks_behind_cells_become_the_record_links() -> None:
    tama = parse_xlsx(workbook_bytes(TAMA)).records
    assert tama[0].links == {"URL": ["https://www.chiki-smarttokyo.metro.tokyo.lg.jp/"]}
    assert tama[2].links == {}  # まちづくり推進コンシェルジュ has no URL
    nationwide = parse_xlsx(workbook_bytes(NATIONWIDE)).records
    assert nationwide[0].links == {"備考": ["https://www.ecosystem.metro.tokyo.lg.jp/members/"]}


def test_numbers_and_dates_read_as_a_person_reads_them() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["No.", "予算", "開始日", "達成率", "比率"])
    sheet.append([1, 1200.0, datetime(2022, 4, 1), 0.5, 0.1 + 0.2])
    sheet["D2"].number_format = "0%"
    buffer = io.BytesIO()
    book.save(buffer)
    [record] = parse_xlsx(buffer.getvalue()).records
    assert record.cells == {"No.": "1", "予算": "1200", "開始日": "2022-04-01", "達成率": "50%", "比率": "0.3"}


def test_the_sheet_is_picked_by_name_or_by_a_column_it_holds() -> None:
    body = workbook_bytes(TAMA)
    assert len(parse_xlsx(body, {"sheet": "一覧"}).records) == 44
    assert len(parse_xlsx(body, {"header_contains": "施策概要"}).records) == 44
    with pytest.raises(ParseError, match="no sheet '戦略3' \\(sheets: 注意事項, 一覧\\)"):
        parse_xlsx(body, {"sheet": "戦略3"})
    with pytest.raises(ParseError, match="no sheet has a column '事業費'"):
        parse_xlsx(body, {"header_contains": "事業費"})


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize("body", [workbook_bytes(TAMA)[:5000], b"PK\x03\x04 broken", _zip_without_workbook()])
def test_a_broken_workbook_is_a_one_line_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_xlsx(body)
    message = str(caught.value)
    assert message.startswith("https://example.jp/list.xlsx: not a readable .xlsx workbook") and "\n" not in message


def test_an_old_xls_workbook_is_refused_with_what_to_ask_for() -> None:
    with pytest.raises(ParseError, match=r"Excel 97-2003 \(.xls\) workbook.*ask for .xlsx or CSV"):
        parse_xlsx(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))


def test_a_workbook_is_recognised_without_its_file_name() -> None:
    assert detect_format(Document(workbook_bytes(TAMA), url="https://example.jp/download?id=7")).name == "xlsx"
    assert not get_format("xlsx").sniff(Document(_zip_without_workbook(), url="https://example.jp/files.zip"))
