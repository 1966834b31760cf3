"""Citations follow the cell: a row whose text stayed but whose links behind it changed.

An HTML ``href`` or an .xlsx hyperlink can change behind a cell whose text does not (the same
「詳細はこちら」 now points elsewhere). Matching pairs such a row as unchanged, so without this
the new URL would never be cited (nor checked) and the old one would stay checked, and could
die as ``link_dead`` for a link the list no longer cites. Such a pair gets a new version
like a changed row (with no field change, so no event): the new URLs are cited, and the old
ones, cited by no open version any more, are no longer checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from store.links import MAX_URL_LENGTH, cited_by_versions

from monitor.lists.records import Record

__all__ = ["relinked"]


def relinked(session: Session, unchanged: Sequence[tuple[int, int]], records: Sequence[Record], version_of: Callable[[int], int],
             urls_of: Callable[[Record], list[str]]) -> list[tuple[int, int]]:
    """The (old, new) pairs among ``unchanged`` whose new row cites other URLs than the old version.

    URLs in a cell's text change with the text; only the links a format carries beside it
    (``Record.links``) can change alone, so a list without any is not looked at.
    """
    if not any(record.links for record in records):
        return []
    stored = cited_by_versions(session, [version_of(o) for o, _ in unchanged])
    return [
        (o, n) for o, n in unchanged
        if stored.get(version_of(o), set()) != {url for url in urls_of(records[n]) if len(url) <= MAX_URL_LENGTH}
    ]
