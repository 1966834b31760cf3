"""Settings of the sources that are more than one document: paginated lists and index pages.

Kept apart from config.py so that pagination.py and families.py can share them without an
import cycle (config → pagination → fetch → config). Every check raises ``ValueError`` with
one line; config.py reports it against the source's key.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_NEXT_SELECTOR", "LinkPart", "SourceKind", "PaginationSettings", "check_kind"]

# The "next" link as HTML says it; a pager without rel=next needs its own selector.
DEFAULT_NEXT_SELECTOR = 'a[rel~="next"], link[rel~="next"]'
# A child's id is the parent's id, '-', a slug of at most 28 characters and maybe "-<n>".
MAX_INDEX_ID = 48

SourceKind = Literal["list", "index", "ckan"]
# Where an index's link_pattern and link_id_pattern are searched (monitor/lists/index_links.py).
LinkPart = Literal["text", "title", "href", "item", "heading"]


class PaginationSettings(BaseModel):
    """``pagination:`` of a source whose list is spread over several HTML pages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    next_selector: str = DEFAULT_NEXT_SELECTOR
    max_pages: int = Field(20, ge=2, le=500)

    @field_validator("next_selector")
    @classmethod
    def _check_selector(cls, value: str) -> str:
        import soupsieve  # with BeautifulSoup behind it: only for a list that has pages

        try:
            soupsieve.compile(value)
        except soupsieve.SelectorSyntaxError as exc:
            raise ValueError(f"not a CSS selector: {str(exc).splitlines()[0]}") from None
        return value


def _check_regex(name: str, value: str | None) -> None:
    if value is None:
        return
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{name}: not a regular expression ({exc})") from None


def check_kind(source_id: str, kind: SourceKind, link_pattern: str | None, link_id_pattern: str | None,
               link_context: list[LinkPart] | None = None) -> None:
    """An index needs a link pattern and room in its id for its children's; a list takes neither.

    A CKAN dataset (``kind: ckan``) is an index whose links are its resources: no pattern needed."""
    if kind != "index" and (link_pattern is not None or link_id_pattern is not None or link_context is not None):
        raise ValueError("link_pattern, link_id_pattern and link_context are for `kind: index` sources")
    if kind == "list":
        return
    if len(source_id) > MAX_INDEX_ID:
        raise ValueError(f"id: at most {MAX_INDEX_ID} characters for an index (its lists' ids extend it)")
    if kind == "ckan":
        return
    if link_pattern is None:
        raise ValueError("a `kind: index` source needs link_pattern (a regex on the text or href of the links to its lists)")
    _check_regex("link_pattern", link_pattern)
    _check_regex("link_id_pattern", link_id_pattern)
