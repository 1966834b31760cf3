"""A list's body is read once (issue 15 item 6): the parse's own reading gives the text the
parser splits and the encoding the snapshot records, for UTF-8 and CP932 lists alike."""

from __future__ import annotations

from sqlalchemy import create_engine, select

from monitor.lists.encoding import as_utf8
from monitor.lists.parsers import Document, parse_document
from store.models import Snapshot
from tests.conftest import TAMA, seed_text
from tests.lists.test_encoding import check, serve


def test_the_snapshot_records_the_encoding_the_list_was_read_in(tmp_path, site, database_url):
    serve(site, seed_text(TAMA).encode("cp932"), "text/plain; charset=Shift_JIS")
    assert check(tmp_path, site, database_url)["status"] == "baseline"
    serve(site, seed_text(TAMA).replace("多摩", "多摩 ", 1).encode("utf-8"), "text/plain")
    assert check(tmp_path, site, database_url)["status"] in ("changed", "unchanged")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            encodings = list(connection.scalars(select(Snapshot.encoding).order_by(Snapshot.id)))
    finally:
        engine.dispose()
    assert encodings == ["cp932", "utf-8"]


def test_a_utf8_body_is_not_encoded_again_and_its_text_is_the_parsers():
    body = seed_text(TAMA).encode("utf-8")
    document, warnings, encoding = as_utf8(Document(body, url="tama.txt", content_type="text/plain"))
    assert (document.body is body, document.text, warnings, encoding) == (True, seed_text(TAMA), [], "utf-8")
    cp932, _, encoding = as_utf8(Document(seed_text(TAMA).encode("cp932"), url="tama.txt", content_type="text/plain; charset=Shift_JIS"))
    assert (cp932.body, cp932.content_type, encoding) == (body, "text/plain; charset=utf-8", "cp932")
    parsed = parse_document(Document(seed_text(TAMA).encode("cp932"), url="tama.txt", content_type="text/plain; charset=Shift_JIS"), "text-table")
    assert (len(parsed.records), parsed.encoding) == (44, "cp932")
