"""Secrets from ``${VAR}`` never leave: not in the database, the CLI, the logs, the web view or a digest.

A loopback server publishes the Tokyo 戦略2 list at a URL with a password in its userinfo and
a key in its query, both from the environment, and answers only when both are right. The real
``sesaku-monitor`` runs a baseline, a revision, a failing (500) and a suspect run, all at -vv,
then sends the digests to a mailbox and to a webhook whose secret path the receiver quotes
back (``Cannot POST /hooks/<token>``). Then every table, every output, every page and every
message sent is searched for the two secrets and the token.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select

from monitor.config import load_config
from store.models import Base
from tests.conftest import TAMA, seed_text, source_entry
from tests.notifiers.servers import Inbox, free_port
from tests.versions import derive, set_cell
from web import create_app

PASSWORD, API_KEY, HOOK_TOKEN = "pw-Zq81xLm7", "key-Hn47Tc2v", "hook-Pq93Wd5r"
SECRETS = (PASSWORD, API_KEY, HOOK_TOKEN)
ENV = {"LIST_PASSWORD": PASSWORD, "LIST_KEY": API_KEY, "HOOK_TOKEN": HOOK_TOKEN}
PAGES = ("/", "/changes", "/sources/tama", "/feed.atom", "/sources/tama/feed.atom", "/api/sources", "/api/sources/tama", "/api/changes")
SCRIPT = shutil.which("sesaku-monitor", path=str(Path(sys.executable).parent)) or "sesaku-monitor"


@dataclass
class ListServer:
    """The list behind Basic auth and ?apikey=, and a webhook receiver that knows no route."""

    body: bytes = b""
    status: int = 200
    authorized_gets: int = 0
    posted: list[bytes] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                expected = "Basic " + base64.b64encode(f"reader:{PASSWORD}".encode()).decode()
                query = parse_qs(urlsplit(self.path).query)
                if self.headers.get("Authorization") != expected or query.get("apikey") != [API_KEY]:
                    return self._answer(401, b"who are you?")
                server.authorized_gets += 1
                self._answer(server.status, server.body)

            def do_POST(self) -> None:
                server.posted.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                # What Express says to a route it does not know: the path, secret and all.
                self._answer(404, f"<pre>Cannot POST {self.path}</pre>".encode())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture
def list_server() -> Iterator[tuple[ListServer, int]]:
    state = ListServer(body=seed_text(TAMA).encode())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), state.handler())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state, httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _config_file(folder: Path, database_url: str, list_port: int, smtp_port: int) -> Path:
    url = f"http://reader:${{LIST_PASSWORD}}@127.0.0.1:{list_port}/private/tama.txt?apikey=${{LIST_KEY}}"
    data = {
        "database": {"url": database_url},
        "http": {"allow_private_addresses": True, "total_timeout_s": 10, "read_timeout_s": 5, "connect_timeout_s": 2},
        "links": {"enabled": False},
        "sources": [source_entry("tama", url)],
        "notifiers": [
            {"id": "hook", "type": "webhook", "options": {"url": f"http://127.0.0.1:{list_port}/hooks/${{HOOK_TOKEN}}", "timeout_s": 3, "allow_private_address": True}},
            {"id": "mail", "type": "email", "options": {"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "security": "none",
                                                        "sender": "monitor@example.jp", "recipients": ["team@example.jp"], "timeout_s": 3}},
        ],
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV}
    env.pop("SESAKU_DATABASE_URL", None)
    return subprocess.run([SCRIPT, "-vv", *args, "--config", str(config)], capture_output=True, text=True, timeout=120, env=env)


def _tables(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return "\n".join(repr(row) for table in Base.metadata.sorted_tables for row in connection.execute(select(table)))
    finally:
        engine.dispose()


def _web_pages(config: Path) -> dict[str, str]:
    app = create_app(load_config(config))
    transport = httpx.ASGITransport(app=app)

    async def fetch_all() -> dict[str, str]:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return {path: (await client.get(path)).text for path in PAGES}

    import asyncio

    return asyncio.run(fetch_all())


def _leaks(where: dict[str, str]) -> list[str]:
    return [f"{name} holds {secret!r}" for name, text in where.items() for secret in SECRETS if secret in text]


def test_secrets_from_the_environment_appear_nowhere(list_server, inbox, database_url, tmp_path, monkeypatch):
    server, list_port = list_server
    mailbox, smtp_port = inbox
    config = _config_file(tmp_path, database_url, list_port, smtp_port)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    seen: dict[str, str] = {}

    baseline = _run(config, "check", "--json", "--no-links")
    assert baseline.returncode == 0, baseline.stderr
    assert json.loads(baseline.stdout)["sources"][0]["status"] == "baseline"
    server.body = derive(seed_text(TAMA), set_cell(0, "多摩の魅力発信プロジェクト", 0, "多摩の魅力発信プロジェクト2026")).encode()
    revised = _run(config, "check", "--json", "--no-links")
    assert json.loads(revised.stdout)["sources"][0]["status"] == "changed"
    server.status = 500
    failed = _run(config, "check", "--json", "--no-links")
    server.status, server.body = 200, b"<html><body>Service temporarily unavailable</body></html>"
    suspect = _run(config, "check", "--no-links")
    assert [failed.returncode, suspect.returncode] == [3, 3]
    assert json.loads(failed.stdout)["sources"][0]["status"] == "failed"
    assert server.authorized_gets == 4  # every run reached the list with the real secrets
    notified = _run(config, "notify")
    assert server.posted and mailbox.raw(), notified.stderr

    for name, result in {"baseline": baseline, "revised": revised, "failed": failed, "suspect": suspect, "notify": notified}.items():
        seen[f"check {name} stdout"], seen[f"check {name} stderr"] = result.stdout, result.stderr
    # -vv shows the libraries' lines too (asyncio's at least), through the same redaction; the
    # HTTP/1.1 exchange is monitor.http11's, which logs no trace of its own.
    assert "DEBUG asyncio" in baseline.stderr
    for command in (("status", "--json"), ("snapshots", "tama", "--json"), ("deliveries", "--json"), ("deliveries",)):
        result = _run(config, *command)
        assert result.returncode == 0, result.stderr
        seen[" ".join(command)] = result.stdout + result.stderr
    assert "Cannot POST /" in seen["deliveries --json"]  # the receiver's answer is kept, its path hidden
    seen["every table"] = _tables(database_url)
    seen |= {f"web {path}": text for path, text in _web_pages(config).items()}
    seen["webhook payload"] = json.dumps([json.loads(body) for body in server.posted], ensure_ascii=False)
    seen["mail"] = "\n".join(part.get_content() for message in mailbox.messages() for part in message.walk() if not part.is_multipart())

    assert _leaks(seen) == []
    assert "${LIST_PASSWORD}" in seen["every table"] and "${LIST_KEY}" in seen["every table"]  # the operator sees which
