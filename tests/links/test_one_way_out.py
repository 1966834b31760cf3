"""One way out: nothing a list, an index page, a next link or a redirect says makes the daemon read
a file or reach an address the policy refuses, on any path (list, index, lists found there,
pages, link checks, webhooks).

Every "refused" is proven on loopback: a listener that counts the connections it accepts must
see none. The metadata address 169.254.169.254 is only ever named, never reached: the guard
refuses it before a socket is opened (or an injected resolver stands for DNS).
Store tests run on SQLite and on PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import MetaData, create_engine, select

from monitor.runtime.check import open_store, run_check
from monitor.config import HttpSettings
from monitor.errors import FetchError, NotifyError
from monitor.lists.fetch import Trust, fetch_document
from monitor.events import LinkOutcome
from monitor.demo.site import LoopbackSite, Route
from notifiers.digest import build_digest
from monitor.config.notifier_options import WebhookOptions
from notifiers.render import render
from notifiers.webhook import send_webhook
from tests.conftest import NATIONWIDE, TAMA, make_config, seed_text, source_entry
from tests.lists.documents import html_page, seed_list
from tests.links.conftest import FAST, GUARDED, check_one
from tests.notifiers.samples import NOW, counted_events
from tests.notifiers.servers import Receiver
from tests.runtime.test_check import clock
from tests.cli.test_cli import run

SECRET = "sk-live-0n3-w4y-0ut-secret"
PRIVATE_REFUSED = {"http": {"allow_private_addresses": False}}


class CountingListener:
    """A TCP listener on loopback that counts the connections it accepts and answers none."""

    def __init__(self, host: str) -> None:
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._socket.bind((host, 0))
        self._socket.listen(16)
        self._socket.settimeout(0.05)
        self.port = self._socket.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._socket.close()


@pytest.fixture
def listeners() -> Iterator[tuple[CountingListener, CountingListener]]:
    """One on 127.0.0.1, one on ::1."""
    pair = CountingListener("127.0.0.1"), CountingListener("::1")
    yield pair
    for listener in pair:
        listener.close()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A file the daemon must never read: a list's text with a secret in it."""
    path = tmp_path / "private" / "secret.txt"
    path.parent.mkdir()
    path.write_text(seed_text(TAMA).replace("多摩の魅力発信プロジェクト", SECRET), encoding="utf-8")
    return path


def stored_text(database_url: str) -> str:
    """Every value of every row of the database, blobs decompressed: what the store kept."""
    engine = create_engine(database_url)
    metadata = MetaData()
    metadata.reflect(engine)
    values: list[str] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        value = zlib.decompress(value) if value[:1] == b"\x78" else value
                        value = value.decode("utf-8", "replace")
                    values.append(str(value))
    engine.dispose()
    return "\n".join(values)


def test_check_does_not_follow_an_index_to_a_file_or_to_this_machine(tmp_path, database_url, secret_file, listeners):
    v4, v6 = listeners
    links = {
        f"{secret_file.as_uri()}": "多摩のまちづくり 施策一覧 (file)",
        f"http://127.0.0.1:{v4.port}/list.txt": "多摩のまちづくり 施策一覧 (v4)",
        f"http://[::1]:{v6.port}/list.txt": "多摩のまちづくり 施策一覧 (v6)",
        f"http://localhost:{v4.port}/list.txt": "多摩のまちづくり 施策一覧 (name)",
    }
    index = tmp_path / "index.html"
    index.write_text("<html><body><ul>" + "".join(f"<li><a href='{href}'>{text}</a></li>" for href, text in links.items())
                     + "</ul></body></html>", encoding="utf-8")
    entry = source_entry("tama", index.as_uri(), kind="index", link_pattern="施策一覧")
    config = {"database": {"url": database_url}, **PRIVATE_REFUSED, "sources": [entry], "links": {"enabled": False}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    checked = run("check", "--config", "config.yaml", "--json", cwd=tmp_path)

    assert checked.returncode == 3, checked.stderr  # some lists failed
    report = json.loads(checked.stdout)
    index_report, *lists = report["sources"]
    assert (index_report["id"], index_report["status"], index_report["records"]) == ("tama", "baseline", 3)
    refusals = sorted(source["error"].split(": ", 1)[1].rsplit(" ", 1)[0] for source in lists)
    assert refusals == ["refused 127.0.0.1: loopback address", "refused ::1: loopback address",
                        "refused localhost: loopback address"]
    assert {source["status"] for source in lists} == {"failed"}
    assert (v4.accepted, v6.accepted) == (0, 0)
    assert SECRET not in checked.stdout + checked.stderr and SECRET not in stored_text(database_url)
    assert "http(s) only" in checked.stdout + checked.stderr  # the file link is left out, and said so


def test_a_configured_list_on_this_machine_is_refused_before_connecting(database_url, listeners):
    v4, _ = listeners
    config = make_config(database_url, source_entry("tama", f"http://127.0.0.1:{v4.port}/tama.txt"), **PRIVATE_REFUSED)
    (report,) = run_check(config, open_store(config), clock=clock()).sources
    assert (report.status, report.error) == ("failed", f"http://127.0.0.1:{v4.port}/tama.txt: refused 127.0.0.1: loopback address 127.0.0.1")
    assert v4.accepted == 0


def test_a_redirect_to_the_metadata_address_is_refused_even_where_private_addresses_are_allowed(site: LoopbackSite, database_url):
    site.publish("/tama.txt", Route(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))  # loopback allowed
    (report,) = run_check(config, open_store(config), clock=clock()).sources
    assert report.status == "failed"
    assert report.error == f"{site.url('/tama.txt')}: refused 169.254.169.254: link-local address 169.254.169.254"


def test_every_redirect_hop_is_resolved_and_checked(site: LoopbackSite, listeners):
    v4, _ = listeners
    site.publish("/hop", Route(status=302, headers={"Location": f"http://rebinding.example.test:{v4.port}/list.txt"}))
    names = {"lists.example.test": ["127.0.0.1"], "rebinding.example.test": ["127.0.0.1", "169.254.169.254"]}

    async def resolver(host: str, port: int) -> list[str]:
        return names[host]

    settings = HttpSettings(allow_private_addresses=True, total_timeout_s=5)
    url = f"http://lists.example.test:{urlsplit(site.url('/')).port}/hop"
    with pytest.raises(FetchError, match="refused rebinding.example.test: link-local address 169.254.169.254"):
        asyncio.run(fetch_document(url, settings, trust=Trust.CONFIGURED, resolver=resolver))
    assert site.hits("/hop") == 1 and v4.accepted == 0


def test_a_redirect_to_a_file_is_not_followed(site: LoopbackSite, secret_file):
    site.publish("/tama.txt", Route(status=301, headers={"Location": secret_file.as_uri()}))
    settings = HttpSettings(allow_private_addresses=True, total_timeout_s=5)
    with pytest.raises(FetchError, match="unusable redirect to 'file://.*unsupported scheme 'file'") as refused:
        asyncio.run(fetch_document(site.url("/tama.txt"), settings, trust=Trust.CONFIGURED))
    assert SECRET not in str(refused.value)


def test_a_url_learned_from_a_page_is_never_read_from_disk(secret_file):
    with pytest.raises(FetchError, match="file:// is read only for a source's url in config.yaml"):
        asyncio.run(fetch_document(secret_file.as_uri(), HttpSettings(), trust=Trust.LEARNED))
    read = asyncio.run(fetch_document(secret_file.as_uri(), HttpSettings(), trust=Trust.CONFIGURED))
    assert SECRET.encode() in read.body  # the operator's own file:// source is read


def test_a_next_page_link_to_a_file_is_not_read(tmp_path, database_url):
    seed = seed_list(NATIONWIDE)
    secret_page = tmp_path / "page2.html"
    seed.records[0].cells["事業名"] = SECRET
    secret_page.write_bytes(html_page(seed, slice(0, 5), title="一覧"))
    first = tmp_path / "index.html"
    pager = f"<a rel='next' href='{secret_page.as_uri()}'>次へ</a>"
    first.write_bytes(html_page(seed, slice(5, 79), title="一覧", pager=pager))
    entry = source_entry("nationwide", first.as_uri(), format="html-table", options={"header_contains": "事業名"}, pagination={})
    config = make_config(database_url, entry)
    (report,) = run_check(config, open_store(config), clock=clock()).sources
    assert report.status == "suspect"
    assert report.error.startswith(f"page 2 is missing, so the list is incomplete: {secret_page.as_uri()}: file:// is read only")
    assert SECRET not in stored_text(database_url)


def test_a_link_check_to_this_machine_is_refused_before_connecting(listeners):
    v4, v6 = listeners
    for url in (f"http://localhost:{v4.port}/", f"http://[::1]:{v6.port}/"):
        result = check_one(url, FAST, http=GUARDED, retries=0)
        assert result.outcome is LinkOutcome.REFUSED and result.http_status is None
    assert (v4.accepted, v6.accepted) == (0, 0)


def test_a_webhook_reaches_this_machine_only_when_its_notifier_says_so(listeners):
    v4, _ = listeners
    message = render(build_digest("team", counted_events(), now=NOW))
    hook = WebhookOptions.model_validate({"url": f"http://127.0.0.1:{v4.port}/hook/T0K3N", "timeout_s": 2})
    with pytest.raises(NotifyError, match=rf"webhook http://127.0.0.1:{v4.port}: refused 127.0.0.1: loopback address"):
        send_webhook(message, hook, "key-1", now=NOW)
    assert v4.accepted == 0

    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        allowed = WebhookOptions.model_validate({"url": receiver.base + "/ok", "timeout_s": 2, "allow_private_address": True})
        send_webhook(message, allowed, "key-2", now=NOW)
        ((path, headers, _),) = receiver.requests
        assert (path, headers["Idempotency-Key"]) == ("/ok", "key-2")
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_a_webhook_never_follows_a_redirect(site: LoopbackSite):
    site.publish("/hook", Route(status=307, headers={"Location": site.url("/elsewhere")}))
    message = render(build_digest("team", counted_events(), now=NOW))
    hook = WebhookOptions.model_validate({"url": site.url("/hook"), "timeout_s": 2, "allow_private_address": True})
    with pytest.raises(NotifyError, match="answered HTTP 307"):
        send_webhook(message, hook, "key-3", now=NOW)
    assert site.hits("/elsewhere") == 0
