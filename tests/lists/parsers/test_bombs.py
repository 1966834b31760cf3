"""Documents that inflate past ``http.max_bytes`` end as ``suspect`` in bounded time and memory.

The bombs are built at run time (tests/fixtures/bombs.py) and served from a loopback site;
the end-to-end cases run the installed ``sesaku-monitor check``, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from monitor.config import HttpSettings
from monitor.errors import ParseError
from monitor.demo.site import Route
from monitor.lists.parsers import Document, parse_document
from tests.conftest import source_entry
from tests.fixtures.bombs import SHEET, pdf_bomb, xlsx_bomb, xlsx_of_many_parts
from tests.cli.test_cli import SCRIPT

MiB = 1 << 20
CAP = 20_000_000  # http.max_bytes by default
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# The check runs under a small parent that reports its one child's peak memory: the test
# process's own RUSAGE_CHILDREN is the largest of every child any earlier test started.
PEAK_OF_CHILD = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
                 "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr);"
                 "used = resource.getrusage(resource.RUSAGE_CHILDREN);"
                 "print(used.ru_utime + used.ru_stime, used.ru_maxrss, file=sys.stderr)")


def check_one(tmp_path: Path, site, database_url: str, path: str, body: bytes, content_type: str) -> tuple[dict, float, int]:
    """The source's entry of `check --json`, the CPU seconds it took (steady on a loaded machine, where
    wall time is not; an uncapped bomb costs 35-70 s of CPU) and its peak memory in MiB."""
    site.publish(path, Route(body, content_type=content_type))
    config = {"database": {"url": database_url}, "http": {"allow_private_addresses": True},
              "sources": [source_entry("tama", site.url(path), format="auto")]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    command = [SCRIPT, "check"] if SCRIPT else [sys.executable, "-m", "monitor", "check"]
    result = subprocess.run([sys.executable, "-c", PEAK_OF_CHILD, *command, "--no-links", "--json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.stdout, result.stderr
    (source,) = json.loads(result.stdout)["sources"]
    cpu, peak = result.stderr.strip().splitlines()[-1].split()
    return source, float(cpu), int(peak) // 1024


def test_an_xlsx_whose_sheet_inflates_past_the_cap_is_suspect_naming_the_part(tmp_path, site, database_url):
    body = xlsx_bomb(64 * MiB)
    source, elapsed, peak = check_one(tmp_path, site, database_url, "/list.xlsx", body, XLSX)
    assert source["status"] == "suspect"
    declared = len(_member(body))
    assert source["error"] == (f"{site.url('/list.xlsx')}: part '{SHEET}' ({declared:,} bytes) inflates to more than "
                               f"{CAP:,} bytes (http.max_bytes)")
    assert elapsed < 15 and peak < 300, (elapsed, peak)


def test_a_pdf_whose_content_stream_inflates_past_the_cap_is_suspect(tmp_path, site, database_url):
    source, elapsed, peak = check_one(tmp_path, site, database_url, "/list.pdf", pdf_bomb(256 * MiB), "application/pdf")
    assert source["status"] == "suspect"
    assert source["error"] == f"{site.url('/list.pdf')}: PDF stream 4 inflates to more than {CAP:,} bytes (http.max_bytes)"
    assert elapsed < 15 and peak < 300, (elapsed, peak)


def test_parts_each_under_the_cap_count_together():
    body = xlsx_of_many_parts(parts=5, part_size=300_000)
    with pytest.raises(ParseError) as caught:
        parse_document(Document(body, url="list.xlsx", max_bytes=1_000_000), "xlsx")
    assert str(caught.value).startswith("list.xlsx: its parts inflate to more than 1,000,000 bytes in all, the last part 'customXml/item")
    # Under a cap they fit, the same workbook is read as ever.
    assert len(parse_document(Document(body, url="list.xlsx", max_bytes=3_000_000), "xlsx").records) == 44


def test_a_stream_deflated_twice_is_measured_through_both_filters():
    body = pdf_bomb(64 * MiB, nested=True)
    assert len(body) < 2_000  # the outer stream alone is no bomb: the inner one is
    with pytest.raises(ParseError, match=r"^list.pdf: PDF stream 4 inflates to more than 20,000,000 bytes \(http.max_bytes\)$"):
        parse_document(Document(body, url="list.pdf"), "pdf")


def test_the_cap_is_http_max_bytes():
    # 8 MiB of content inflates within a 10 MB cap (and is read: a page of text, no table), not within 5 MB.
    body = pdf_bomb(8 * MiB)
    with pytest.raises(ParseError, match=r"^list.pdf: no ruled table in the PDF$"):
        parse_document(Document(body, url="list.pdf", max_bytes=10_000_000), "pdf")
    with pytest.raises(ParseError, match=r"^list.pdf: PDF stream 4 inflates to more than 5,000,000 bytes"):
        parse_document(Document(body, url="list.pdf", max_bytes=5_000_000), "pdf")


def test_a_document_is_capped_like_the_body_by_default():
    assert Document(b"").max_bytes == HttpSettings().max_bytes


def _member(body: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return archive.read(SHEET)
