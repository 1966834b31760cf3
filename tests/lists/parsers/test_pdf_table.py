"""The ``pdf`` format reads the lists as the PDFs in tests/fixtures/documents/ lay them out."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pdfplumber
import pytest
from reportlab.pdfgen.canvas import Canvas

from monitor.errors import ParseError
from monitor.lists.parsers import Document, ParserOptions, detect_format, parse_document
from monitor.lists.parsers.pdf_table import join_lines
from monitor.lists.records import ParsedList

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NATIONWIDE = "tokyo-nationwide-collaboration-r4"
TAMA = "tokyo-tama-strategy2-measures"


def parse_seed(name: str) -> ParsedList:
    return parse_document(Document((FIXTURES / f"{name}.txt").read_bytes(), url=f"{name}.txt"), "text-table")


def parse_pdf(name: str, options: dict[str, str] | ParserOptions | None = None) -> ParsedList:
    path = FIXTURES / "documents" / f"{name}.pdf"
    return parse_document(Document(path.read_bytes(), url=f"https://example.jp/{name}.pdf"), "pdf", options)


@pytest.mark.parametrize("name", [NATIONWIDE, TAMA])
def test_the_pdf_gives_the_records_of_the_text_list(name: str) -> None:
    seed, parsed = parse_seed(name), parse_pdf(name)
    assert parsed.columns == seed.columns
    assert len(parsed.records) == len(seed.records)
    for expected, got in zip(seed.records, parsed.records, strict=True):
        for column in seed.columns:
            assert got.normalized[column] == expected.normalized[column], f"{got.line}, {column}"
    assert parsed.errors == [] and parsed.warnings == []


def test_a_row_broken_across_a_page_boundary_is_one_record() -> None:
    # The fixture must keep a broken row: some page's first row under the header has no No.
    with pdfplumber.open(FIXTURES / "documents" / f"{NATIONWIDE}.pdf") as pdf:
        first_rows = [page.find_tables()[0].extract()[1] for page in pdf.pages[1:]]
    assert any(not row[0] for row in first_rows)

    numbers = [record.normalized["No."] for record in parse_pdf(NATIONWIDE).records]
    assert numbers == [str(n) for n in range(1, 80)]


def test_title_and_edition_come_from_the_title_line_and_page_numbers_stay_out() -> None:
    parsed = parse_pdf(NATIONWIDE)
    assert parsed.title == "令和4年度 全国各地との連携事業一覧(令和4年4月1日時点)"
    assert parsed.edition == "令和4年4月1日時点"
    assert parsed.as_of == date(2022, 4, 1)
    texts = [text for record in parsed.records for text in record.normalized.values()]
    assert not any(text.startswith("- ") and text.endswith(" -") for text in texts)


def test_the_title_metadata_gives_the_edition_when_no_line_does() -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.setTitle("令和5年4月1日時点 事業一覧")
    for row, cells in enumerate([("No.", "Name"), ("1", "Water"), ("2", "Roads")]):
        for column, text in enumerate(cells):
            canvas.rect(50 + 100 * column, 700 - 20 * row, 100, 20)
            canvas.drawString(55 + 100 * column, 706 - 20 * row, text)
    canvas.save()
    parsed = parse_document(Document(buffer.getvalue(), url="list.pdf"), "pdf")
    assert [record.normalized for record in parsed.records] == [{"No.": "1", "Name": "Water"}, {"No.": "2", "Name": "Roads"}]
    assert parsed.edition == "令和5年4月1日時点"
    assert parsed.as_of == date(2023, 4, 1)


def test_a_scan_is_an_untrustworthy_list_that_says_why() -> None:
    body = (FIXTURES / "documents" / f"{NATIONWIDE}-scan.pdf").read_bytes()
    document = Document(body, url="https://example.jp/list.pdf")
    assert detect_format(document).name == "pdf"
    parsed = parse_document(document, "auto")
    assert parsed.records == []
    assert parsed.errors == ["https://example.jp/list.pdf: no extractable text on its 2 page(s) (a scanned PDF?); ask for a text PDF, or read it by hand"]


@pytest.mark.parametrize("body", [b"%PDF-1.4\nthis is not really a PDF", (FIXTURES / "documents" / f"{TAMA}.pdf").read_bytes()[:6000]])
def test_a_broken_pdf_is_a_one_line_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_document(Document(body, url="list.pdf"), "pdf")
    message = str(caught.value)
    assert message.startswith("list.pdf: not a readable PDF") and "\n" not in message


def test_an_unknown_continuation_column_is_named_in_the_error() -> None:
    with pytest.raises(ParseError, match="continuation_column '番号' is not a column"):
        parse_pdf(NATIONWIDE, {"continuation_column": "番号"})


@pytest.mark.parametrize(
    ("before", "after", "joined"),
    [
        ("東京都と全国の", "各地域", "東京都と全国の各地域"),  # Japanese wraps anywhere
        ("Tokyo Data", "Highway", "Tokyo Data Highway"),  # the wrap took the space between words
        ("https://www.tokyo-co2down.jp/sub", "sidy/", "https://www.tokyo-co2down.jp/subsidy/"),  # never inside a URL
        ("自治体 ", "※東京", "自治体 ※東京"),  # a space the PDF kept at the end of the line
        ("約6,500件", "を開放", "約6,500件を開放"),
    ],
)
def test_wrapped_lines_are_joined_as_the_cell_was_written(before: str, after: str, joined: str) -> None:
    assert join_lines(before, after) == joined
