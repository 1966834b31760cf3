"""The one HTTP/1.1 connection under ``GuardedClient`` (``monitor.http11``), against a server on
loopback that answers raw bytes: each way of framing a body, answers that are not HTTP or are cut
short, and when a connection is used again.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from monitor.net_failures import failure_of
from monitor.netguard import AddressPolicy, GuardedClient, read_capped

TIMEOUT = httpx.Timeout(5.0)


class RawServer:
    """Answers each request with the bytes published for its path; counts connections and requests."""

    def __init__(self) -> None:
        self.answers: dict[str, bytes] = {}
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()
        assert self._ready.wait(5)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _shutdown(self) -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                answer = self.answers[head.split(b" ", 2)[1].decode()]
                writer.write(answer.removesuffix(b"<close>"))
                await writer.drain()
                if answer.endswith(b"<close>"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    server.start()
    yield server
    server.stop()


def _get_all(raw: RawServer, paths: list[str], method: str = "GET", content: bytes | None = None) -> list[tuple[int, bytes]]:
    """Each path asked in turn on one client: status and body (read to its end)."""

    async def go() -> list[tuple[int, bytes]]:
        answers = []
        async with GuardedClient(AddressPolicy(allow_private_addresses=True), timeout=TIMEOUT) as client:
            for path in paths:
                response = await client.send(method, raw.url(path), content=content)
                try:
                    body, _ = await read_capped(response, 1 << 20)
                finally:
                    await response.aclose()
                answers.append((response.status_code, body))
        return answers

    return asyncio.run(go())


def _failure(raw: RawServer, path: str) -> str:
    with pytest.raises(httpx.HTTPError) as failed:
        _get_all(raw, [path])
    return failure_of(failed.value).message


def test_each_framing_of_a_body_is_read_and_a_framed_body_keeps_the_connection(raw: RawServer) -> None:
    raw.answers["/length"] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    raw.answers["/chunks"] = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"4;ext=1\r\n\xe6\x96\xbd\xe7\r\n2\r\n\xad\x96\r\n0\r\nX-Trailer: t\r\n\r\n")
    raw.answers["/interim"] = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"
    raw.answers["/empty"] = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
    answers = _get_all(raw, ["/length", "/chunks", "/interim", "/empty", "/length"])
    assert answers == [(200, b"hello"), (200, "施策".encode()), (404, b"no"), (304, b""), (200, b"hello")]
    assert raw.connections == 1


def test_a_body_to_the_end_of_the_connection_is_read_and_the_connection_not_used_again(raw: RawServer) -> None:
    raw.answers["/old"] = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end<close>"
    raw.answers["/close"] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    raw.answers["/extra"] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n"
    assert _get_all(raw, ["/old", "/close", "/extra", "/close"]) == [(200, b"to the end"), (200, b"ok"), (200, b"ok"), (200, b"ok")]
    assert raw.connections == 4


def test_a_head_answer_has_no_body_and_keeps_the_connection(raw: RawServer) -> None:
    raw.answers["/doc.pdf"] = b"HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nContent-Type: application/pdf\r\n\r\n"
    assert _get_all(raw, ["/doc.pdf", "/doc.pdf"], method="HEAD") == [(200, b""), (200, b"")]
    assert raw.connections == 1


def test_a_request_body_is_sent_with_its_length(raw: RawServer) -> None:
    raw.answers["/hook"] = b"HTTP/1.1 204 No Content\r\n\r\n"
    assert _get_all(raw, ["/hook"], method="POST", content='{"text": "施策"}'.encode()) == [(204, b"")]
    assert raw.requests[0].startswith(b"POST /hook HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 18\r\n" in raw.requests[0] and raw.requests[0].endswith('\r\n\r\n{"text": "施策"}'.encode())


@pytest.mark.parametrize(("answer", "message"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf<close>",
     "answer cut short or garbled: peer closed connection without sending complete message body: received 4 bytes, expected 10"),
    (b"<close>", "answer cut short or garbled: Server disconnected without sending a response."),
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n<close>", "answer cut short or garbled: not an HTTP status line: b'SSH-2.0-OpenSSH_9.6'"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", "answer cut short or garbled: bad Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "answer cut short or garbled: bad Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "answer cut short or garbled: unsupported transfer encoding 'gzip'"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "answer cut short or garbled: bad chunk size line b'zz'"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", "answer cut short or garbled: chunk longer than its size"),
    (b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "answer cut short or garbled: illegal header line b'Bad Header: x'"),
    (b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", "answer cut short or garbled: illegal header value of X-A"),
    (b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"x" * 200_000 + b"\r\n\r\n", "answer cut short or garbled: answer head over 100 KiB"),
], ids=["cut-short", "no-answer", "not-http", "two-lengths", "negative-length", "gzip-coding", "bad-chunk-size", "long-chunk",
        "bad-name", "nul-in-value", "huge-head"])
def test_an_answer_that_is_not_http_or_cut_short_is_one_line(raw: RawServer, answer: bytes, message: str) -> None:
    raw.answers["/x"] = answer
    assert _failure(raw, "/x") == message


def test_a_folded_header_is_one_value(raw: RawServer) -> None:
    raw.answers["/fold"] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Note: one\r\n  two\r\n\r\nok"

    async def go() -> str:
        async with GuardedClient(AddressPolicy(allow_private_addresses=True), timeout=TIMEOUT) as client:
            response = await client.send("GET", raw.url("/fold"))
            await response.aclose()
            return response.headers["x-note"]

    assert asyncio.run(go()) == "one two"
