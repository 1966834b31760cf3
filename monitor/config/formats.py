"""The list formats config.yaml may name, and the ``options:`` each of them takes.

The parsers in ``monitor/lists/parsers`` implement these; the schema lives here so that the
configuration can be checked without loading a parser (or the libraries a parser needs).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from monitor.schedule import check_time_zone

__all__ = ["FORMAT_OPTIONS", "ParserOptions", "DelimitedOptions", "HtmlTableOptions", "JsonOptions", "PdfTableOptions",
           "TextTableOptions", "XlsxTableOptions", "format_names", "options_model"]


class ParserOptions(BaseModel):
    """Base of every parser's options; unknown keys are an error."""

    # Built where a source of the format is first validated (defer_build): a config uses one or two of the seven.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class DelimitedOptions(ParserOptions):
    header_contains: str | None = None
    """A column name that marks the header row; by default the first row with two or more cells."""


class HtmlTableOptions(ParserOptions):
    selector: str | None = None
    """CSS selector of the table; by default the first table whose header names ``header_contains``, else the largest."""
    header_contains: str | None = None
    """A column name that identifies the table and its header row."""


class PdfTableOptions(ParserOptions):
    header_contains: str | None = None
    """A column name that marks the header row; by default the first row with two or more cells."""
    continuation_column: str | None = None
    """The column that is empty only in the rest of a row broken across a page; by default the first."""


class TextTableOptions(ParserOptions):
    header_contains: str | None = None
    """A column name that marks the header row; by default the first row with two or more cells."""


class XlsxTableOptions(ParserOptions):
    sheet: str | None = None
    """The name of the sheet that holds the list; by default the first holding ``header_contains``."""
    header_contains: str | None = None
    """A column name that identifies the sheet and its header row."""


class JsonOptions(ParserOptions):
    records: str = ""
    """Dotted path to the array of records (``result``, ``data.items``); empty: the document is the array."""
    fields: dict[str, str] = Field(min_length=1)
    """Column name → dotted path in a record (``{名称: name, 受付終了: acceptance_end_datetime}``)."""
    requests: list[dict[str, str]] = Field(default_factory=list)
    """Query parameters of each request; the list is the union of every answer, each key once."""
    timezone: str = "Asia/Tokyo"
    """ISO 8601 datetimes with an offset are shown in this zone, so that their date is the planner's."""

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        return check_time_zone(value)


FORMAT_OPTIONS: dict[str, type[ParserOptions]] = {
    "csv": DelimitedOptions,
    "tsv": DelimitedOptions,
    "html-table": HtmlTableOptions,
    "json": JsonOptions,
    "pdf": PdfTableOptions,
    "text-table": TextTableOptions,
    "xlsx": XlsxTableOptions,
}


@cache
def options_model(name: str) -> type[ParserOptions]:
    """The options ``format: name`` takes; for ``auto`` (not known before the document is read)
    any key of any format, so that a typo under ``options:`` is refused whatever the format."""
    if name != "auto":
        return FORMAT_OPTIONS[name]
    fields: dict[str, Any] = {key: (Any, None) for model in FORMAT_OPTIONS.values() for key in model.model_fields}
    return create_model("AnyFormatOptions", __base__=ParserOptions, **fields)


def format_names() -> list[str]:
    """Every name ``format:`` takes: ``auto`` (sniffed from the document) and each format."""
    return ["auto", *sorted(FORMAT_OPTIONS)]
