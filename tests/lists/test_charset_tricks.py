"""A server's charset is a stranger's word: it may name only a text encoding of the web.

Python's codecs include some no server means: ``undefined`` fails on every byte (it crashed
the whole ``check`` run and the link checker), ``unicode_escape`` turns a cell's literal
``\\x1b`` into ESC and its Japanese into mojibake (a good list became ``suspect``). Such a
label is ignored, as an unknown one is, and the body is read as UTF-8 or detected.
"""

from __future__ import annotations

import pytest

from monitor.demo.site import LoopbackSite, Route
from monitor.events import LinkOutcome
from monitor.lists.encoding import decode, declared_charset
from monitor.runtime.check import open_store, run_check
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.links.conftest import FAST, run_checks
from tests.runtime.test_check import clock

TRICKS = ["undefined", "unicode_escape", "raw_unicode_escape", "cp037", "palmos", "utf-7", "punycode"]


@pytest.mark.parametrize("charset", TRICKS)
def test_a_charset_that_is_no_web_encoding_is_ignored(charset: str) -> None:
    body = "施策名,所管\n多摩,\\x1b[31m赤\n".encode()
    assert declared_charset(body, f"text/csv; charset={charset}") is None
    assert declared_charset(f'<meta charset="{charset}">'.encode() + body, "text/html") is None
    assert decode(body, f"text/csv; charset={charset}").text == body.decode()
    assert declared_charset(b"", "text/csv; charset=Shift_JIS") == "cp932"  # the web's own labels still count


@pytest.mark.parametrize("charset", ["undefined", "unicode_escape"])
def test_a_list_served_with_such_a_charset_is_read_and_the_run_goes_on(site: LoopbackSite, database_url: str, charset: str) -> None:
    site.publish("/tama.txt", Route(seed_text(TAMA).encode(), content_type=f"text/plain; charset={charset}"))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    (report,) = run_check(config, open_store(config), clock=clock()).sources
    assert (report.status, report.records, report.error) == ("baseline", 44, None)


def test_a_page_served_with_charset_undefined_is_checked(site: LoopbackSite) -> None:
    site.publish("/page.html", Route("<html><body>施策のページ</body></html>".encode(), content_type="text/html; charset=undefined"))
    (result,) = run_checks([site.url("/page.html")], FAST)
    assert result.outcome is LinkOutcome.OK
