"""The one HTTP/1.1 connection under ``GuardedClient`` (``monitor.http11``), against a server on
loopback that answers raw bytes: each way of framing a body, answers that are not HTTP or are cut
short, and when a connection is used again.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from monitor.net_failures import failure_of
from monitor.netguard import AddressPolicy, GuardedClient, read_capped
from tests.raw_http import RawHTTPServer

TIMEOUT = httpx.Timeout(5.0)


def _get_all(raw_http: RawHTTPServer, paths: list[str], method: str = "GET", content: bytes | None = None) -> list[tuple[int, bytes]]:
    """Each path asked in turn on one client: status and body (read to its end)."""

    async def go() -> list[tuple[int, bytes]]:
        answers = []
        async with GuardedClient(AddressPolicy(allow_private_addresses=True), timeout=TIMEOUT) as client:
            for path in paths:
                response = await client.send(method, raw_http.url(path), content=content)
                try:
                    body, _ = await read_capped(response, 1 << 20)
                finally:
                    await response.aclose()
                answers.append((response.status_code, body))
        return answers

    return asyncio.run(go())


def _failure(raw_http: RawHTTPServer, path: str) -> str:
    with pytest.raises(httpx.HTTPError) as failed:
        _get_all(raw_http, [path])
    return failure_of(failed.value).message


def test_each_framing_of_a_body_is_read_and_a_framed_body_keeps_the_connection(raw_http: RawHTTPServer) -> None:
    raw_http.answers["/length"] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    raw_http.answers["/chunks"] = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"4;ext=1\r\n\xe6\x96\xbd\xe7\r\n2\r\n\xad\x96\r\n0\r\nX-Trailer: t\r\n\r\n")
    raw_http.answers["/interim"] = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"
    raw_http.answers["/empty"] = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
    answers = _get_all(raw_http, ["/length", "/chunks", "/interim", "/empty", "/length"])
    assert answers == [(200, b"hello"), (200, "施策".encode()), (404, b"no"), (304, b""), (200, b"hello")]
    assert raw_http.connections == 1


def test_a_body_to_the_end_of_the_connection_is_read_and_the_connection_not_used_again(raw_http: RawHTTPServer) -> None:
    raw_http.answers["/old"] = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end<close>"
    raw_http.answers["/close"] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    raw_http.answers["/extra"] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n"
    assert _get_all(raw_http, ["/old", "/close", "/extra", "/close"]) == [(200, b"to the end"), (200, b"ok"), (200, b"ok"), (200, b"ok")]
    assert raw_http.connections == 4


def test_a_head_answer_has_no_body_and_keeps_the_connection(raw_http: RawHTTPServer) -> None:
    raw_http.answers["/doc.pdf"] = b"HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nContent-Type: application/pdf\r\n\r\n"
    assert _get_all(raw_http, ["/doc.pdf", "/doc.pdf"], method="HEAD") == [(200, b""), (200, b"")]
    assert raw_http.connections == 1


def test_a_request_body_is_sent_with_its_length(raw_http: RawHTTPServer) -> None:
    raw_http.answers["/hook"] = b"HTTP/1.1 204 No Content\r\n\r\n"
    assert _get_all(raw_http, ["/hook"], method="POST", content='{"text": "施策"}'.encode()) == [(204, b"")]
    assert raw_http.requests[0].startswith(b"POST /hook HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 18\r\n" in raw_http.requests[0] and raw_http.requests[0].endswith('\r\n\r\n{"text": "施策"}'.encode())


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
def test_an_answer_that_is_not_http_or_cut_short_is_one_line(raw_http: RawHTTPServer, answer: bytes, message: str) -> None:
    raw_http.answers["/x"] = answer
    assert _failure(raw_http, "/x") == message


def test_a_folded_header_is_one_value(raw_http: RawHTTPServer) -> None:
    raw_http.answers["/fold"] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Note: one\r\n  two\r\n\r\nok"

    async def go() -> str:
        async with GuardedClient(AddressPolicy(allow_private_addresses=True), timeout=TIMEOUT) as client:
            response = await client.send("GET", raw_http.url("/fold"))
            await response.aclose()
            return response.headers["x-note"]

    assert asyncio.run(go()) == "one two"
