"""Encodings as servers get them wrong, through the installed ``sesaku-monitor check``: UTF-8
labelled iso-8859-1, a corrupt byte, a CP932 list behind a wrong label (``encoding:``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.demo.site import Route
from monitor.lists.encoding import decode
from tests.cli.test_cli import run
from tests.conftest import TAMA, seed_text, source_entry
from tests.versions import derive, set_cell

MAGIC = "多摩の魅力発信プロジェクト"


def serve(site, text: bytes, content_type: str) -> None:
    site.publish("/tama.txt", Route(text, content_type=content_type))


def check(tmp_path: Path, site, database_url: str, **source: Any) -> dict[str, Any]:
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True}, "links": {"enabled": False},
              "sources": [source_entry("tama", site.url("/tama.txt"), **source)]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = run("check", "--config", "config.yaml", "--no-links", "--json", cwd=tmp_path)
    assert result.stdout, result.stderr
    (report,) = json.loads(result.stdout)["sources"]
    return report


def test_utf8_labelled_iso_8859_1_is_read_as_utf8(tmp_path, site, database_url):
    serve(site, seed_text(TAMA).encode("utf-8"), "text/plain; charset=iso-8859-1")
    first = check(tmp_path, site, database_url)
    assert (first["status"], first["records"], first["warnings"]) == ("baseline", 44, [])
    changed = derive(seed_text(TAMA), set_cell(0, MAGIC, 0, MAGIC + "2026"))
    serve(site, changed.encode("utf-8"), "text/plain; charset=windows-1252")
    (renamed,) = check(tmp_path, site, database_url)["renamed"]
    assert (renamed["old_name"], renamed["new_name"]) == (MAGIC, MAGIC + "2026")


def test_one_invalid_byte_is_replaced_with_a_warning_and_a_mostly_invalid_body_stays_suspect(tmp_path, site, database_url):
    body = seed_text(TAMA).encode("utf-8")
    at = body.index(MAGIC.encode("utf-8"))
    serve(site, body[:at] + b"\xff" + body[at + 3:], "text/plain; charset=utf-8")
    first = check(tmp_path, site, database_url)
    assert (first["status"], first["records"], first["error"]) == ("baseline", 44, None)
    (warning,) = first["warnings"]
    assert "1 invalid byte sequence(s) in utf-8 replaced by U+FFFD" in warning and f"byte {at}" in warning
    garbled = bytes(b if n % 4 else 0xFF for n, b in enumerate(body))
    serve(site, garbled, "text/plain; charset=utf-8")
    second = check(tmp_path, site, database_url)
    assert second["status"] == "suspect"


def test_a_configured_encoding_outranks_a_wrong_label(tmp_path, site, database_url):
    serve(site, seed_text(TAMA).encode("cp932"), "text/plain; charset=iso-8859-1")
    assert check(tmp_path, site, database_url)["status"] == "suspect"
    report = check(tmp_path, site, database_url, encoding="Shift_JIS")
    assert (report["status"], report["records"], report["warnings"]) == ("baseline", 44, [])


def test_an_unknown_encoding_is_a_one_line_error_naming_the_source(tmp_path):
    config = {"sources": [source_entry("tama", "https://example.lg.jp/tama.txt", encoding="latin-9x")]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = run("check", "--no-links", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "sesaku-monitor: error: config.yaml: sources[0].encoding: source 'tama': unknown text encoding 'latin-9x' (e.g. utf-8, cp932, shift_jis, euc-jp)"]


@pytest.mark.parametrize("body, content_type, expected", [
    (b"\xef\xbb\xbf\xe6\x96\xbd\xe7\xad\x96", "", ("施策", "utf-8-sig")),
    ("施策".encode("euc_jp") * 40, "text/plain; charset=euc-jp", ("施策" * 40, "euc_jp")),
    ("施策".encode("utf-8"), "text/html; charset=ISO-8859-1", ("施策", "utf-8")),
    (b"caf\xe9", "text/plain; charset=iso-8859-1", ("café", "iso8859-1")),
])
def test_what_a_body_reads_as(body, content_type, expected):
    decoded = decode(body, content_type)
    assert (decoded.text, decoded.encoding, decoded.warning) == (*expected, None)
