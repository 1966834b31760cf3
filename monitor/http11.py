"""One HTTP/1.1 client connection, one exchange at a time, for ``monitor.netguard.HostPools``.

httpcore's ``AsyncHTTP11Connection`` drives h11's state machine: an event object per header
block, per body chunk and per end of message, a state transition per event, an AnyIO lock
(and the trip through the event loop it takes) around each request and each close, a trace
context per phase. On a link check over loopback that was a third of the CPU of a check,
for what a pool that never shares a connection needs of HTTP/1.1: write a request, read a
status line and headers, read a body framed by ``Content-Length``, chunks or the end of the
connection, and say whether the connection may carry the next request. That is all this does,
to the same contract: httpcore's ``Request`` in, httpcore's ``Response`` out, httpcore's
exceptions (``RemoteProtocolError`` for an answer that is not HTTP, or cut short;
``LocalProtocolError`` for a request that cannot be written), each read and write with
its timeout from the request. Limits as httpcore sets them: a head of at most 100 KiB.

Kept strict where h11 is: one ``Content-Length`` (repeats must agree, digits only), only
``chunked`` as a transfer coding, a header name a token, no control characters in a value.
A connection is used again only when both ends spoke HTTP/1.1 without ``Connection: close``,
the body had a length of its own and was read to its end, and nothing came after it.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpcore

__all__ = ["Http11Connection"]

READ_BYTES = 64 * 1024
MAX_HEAD_BYTES = 100 * 1024  # status line and headers, as httpcore's MAX_INCOMPLETE_EVENT_SIZE
_END_OF_HEAD = re.compile(rb"\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/(\d\.\d) ([0-9]{3})(?: (.*))?")
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?")
_NO_BODY = frozenset({204, 304})


class Http11Connection:
    """A keep-alive HTTP/1.1 connection to one origin; the pool hands it to one request at a time."""

    def __init__(self, origin: httpcore.Origin, stream: httpcore.AsyncNetworkStream, keepalive_expiry: float | None = None) -> None:
        self._origin = origin
        self._stream = stream
        self._expiry = keepalive_expiry
        self._expire_at: float | None = None
        self._idle = True
        self._closed = False
        self._buffer = bytearray()

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if self._closed or not self._idle:
            raise httpcore.ConnectionNotAvailable()
        self._idle, self._expire_at = False, None
        timeouts = request.extensions.get("timeout", {})
        read_timeout = timeouts.get("read")
        try:
            try:
                await self._send(request, timeouts.get("write"))
            except httpcore.WriteError:
                pass  # as httpcore: a server may answer (an error, say) before it read the whole request
            version, status, reason, headers = await self._head(read_timeout)
        except BaseException:
            await self.aclose()
            raise
        body = _Body(self, request, version, status, headers, read_timeout)
        return httpcore.Response(status=status, headers=headers, content=body,
                                 extensions={"http_version": b"HTTP/" + version, "reason_phrase": reason, "network_stream": self._stream})

    def is_idle(self) -> bool:
        return self._idle and not self._closed

    def has_expired(self) -> bool:
        """Idle past its keep-alive, or closed by its server (an idle socket with input waiting)."""
        if self._expire_at is not None and time.monotonic() > self._expire_at:
            return True
        return self.is_idle() and bool(self._stream.get_extra_info("is_readable"))

    async def aclose(self) -> None:
        self._closed = True
        await self._stream.aclose()

    async def _send(self, request: httpcore.Request, timeout: float | None) -> None:
        method, target = request.method, request.url.target
        if not _TOKEN.fullmatch(method) or not target or b" " in target or _BAD_VALUE.search(target):
            raise httpcore.LocalProtocolError(f"cannot send request line {method!r} {target!r}")
        lines = [method + b" " + target + b" HTTP/1.1"]
        chunked = False
        for name, value in request.headers:
            if not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value):
                raise httpcore.LocalProtocolError(f"illegal header {name!r}")
            lowered = name.lower()
            chunked = chunked or (lowered == b"transfer-encoding" and value.strip().lower() == b"chunked")
            lines.append(name + b": " + value)
        await self._stream.write(b"\r\n".join(lines) + b"\r\n\r\n", timeout)
        stream: Any = request.stream
        async for chunk in stream:
            if chunk:
                await self._stream.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk, timeout)
        if chunked:
            await self._stream.write(b"0\r\n\r\n", timeout)

    async def _head(self, timeout: float | None) -> tuple[bytes, int, bytes, list[tuple[bytes, bytes]]]:
        """The final answer's version, status, reason and headers (1xx interim answers skipped)."""
        while True:
            head = await self._read_head(timeout)
            lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
            matched = _STATUS_LINE.fullmatch(lines[0])
            if matched is None:
                raise httpcore.RemoteProtocolError(f"not an HTTP status line: {lines[0][:80]!r}")
            status = int(matched[2])
            if not 100 <= status < 200 or status == 101:
                return matched[1], status, matched[3] or b"", _headers(lines[1:])

    async def _read_head(self, timeout: float | None) -> bytes:
        while True:
            found = _END_OF_HEAD.search(self._buffer)
            if found is not None:
                head = bytes(self._buffer[:found.start()])
                del self._buffer[:found.end()]
                return head.lstrip(b"\r\n")  # blank lines before a status line are tolerated, as by h11
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise httpcore.RemoteProtocolError(f"answer head over {MAX_HEAD_BYTES // 1024} KiB")
            data = await self._stream.read(READ_BYTES, timeout)
            if not data:
                raise httpcore.RemoteProtocolError("Server disconnected without sending a response.")
            self._buffer += data

    async def _read(self, timeout: float | None) -> bytes:
        """What is buffered, else the next bytes from the socket (b"" at its end)."""
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        return await self._stream.read(READ_BYTES, timeout)

    async def _line(self, timeout: float | None, what: str) -> bytes:
        """One CRLF-ended line of a chunked body, without its end."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end]).rstrip(b"\r")
                del self._buffer[:end + 1]
                return line
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise httpcore.RemoteProtocolError(f"{what} over {MAX_HEAD_BYTES // 1024} KiB")
            data = await self._stream.read(READ_BYTES, timeout)
            if not data:
                raise httpcore.RemoteProtocolError(f"peer closed connection without sending complete message body ({what})")
            self._buffer += data

    def _given_back(self) -> None:
        """The answer was read to its end: idle until the next request or its keep-alive's end."""
        self._idle = True
        self._expire_at = None if self._expiry is None else time.monotonic() + self._expiry


def _headers(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):  # obsolete line folding: part of the previous value
            if not headers:
                raise httpcore.RemoteProtocolError("answer head begins with a continuation line")
            name, value = headers[-1]
            headers[-1] = (name, (value + b" " + line.strip(b" \t")).strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise httpcore.RemoteProtocolError(f"illegal header line {line[:80]!r}")
        value = value.strip(b" \t")
        if _BAD_VALUE.search(value):
            raise httpcore.RemoteProtocolError(f"illegal header value of {name.decode('ascii')}")
        headers.append((name, value))
    return headers


def _framing(method: bytes, status: int, headers: list[tuple[bytes, bytes]]) -> tuple[str, int]:
    """How the body is delimited: ``("none" | "length" | "chunked" | "close", length)``."""
    if method == b"HEAD" or status in _NO_BODY or status < 200:
        return "none", 0
    codings = [value.strip().lower() for name, value in headers if name.lower() == b"transfer-encoding"]
    if codings:
        if codings != [b"chunked"]:
            raise httpcore.RemoteProtocolError(f"unsupported transfer encoding {b', '.join(codings).decode('latin-1')!r}")
        return "chunked", 0
    lengths = {part.strip() for name, value in headers if name.lower() == b"content-length" for part in value.split(b",")}
    if not lengths:
        return "close", 0
    if len(lengths) > 1 or not all(length.isdigit() and len(length) < 20 for length in lengths):
        raise httpcore.RemoteProtocolError("bad Content-Length")
    return "length", int(lengths.pop())


def _keeps_alive(version: bytes, headers: list[tuple[bytes, bytes]], request: httpcore.Request) -> bool:
    if version != b"1.1":
        return False
    for name, value in (*headers, *request.headers):
        if name.lower() == b"connection" and b"close" in (token.strip().lower() for token in value.split(b",")):
            return False
    return True


class _Body:
    """An answer's body as it arrives; closing it gives the connection back, or closes it."""

    def __init__(self, connection: Http11Connection, request: httpcore.Request, version: bytes, status: int,
                 headers: list[tuple[bytes, bytes]], timeout: float | None) -> None:
        self._connection = connection
        self._framing, self._left = _framing(request.method, status, headers)
        self._reusable = self._framing != "close" and status != 101 and _keeps_alive(version, headers, request)
        self._timeout = timeout
        self._complete = self._framing == "none"
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            if self._framing == "length":
                async for chunk in self._by_length():
                    yield chunk
            elif self._framing == "chunked":
                async for chunk in self._by_chunks():
                    yield chunk
            elif self._framing == "close":
                while data := await self._connection._read(self._timeout):  # noqa: SLF001
                    yield data
            self._complete = True
        except BaseException:
            await self.aclose()
            raise

    async def _by_length(self) -> AsyncIterator[bytes]:
        connection = self._connection
        received = 0
        while self._left:
            data = await connection._read(self._timeout)  # noqa: SLF001
            if not data:
                raise httpcore.RemoteProtocolError(
                    f"peer closed connection without sending complete message body: received {received} bytes, "
                    f"expected {received + self._left}")
            if len(data) > self._left:  # bytes after the body: kept, and the connection is not used again
                connection._buffer += data[self._left:]  # noqa: SLF001
                data = data[:self._left]
            self._left -= len(data)
            received += len(data)
            yield data

    async def _by_chunks(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while True:
            line = await connection._line(self._timeout, "chunk size line")  # noqa: SLF001
            matched = _CHUNK_SIZE.fullmatch(line)
            if matched is None:
                raise httpcore.RemoteProtocolError(f"bad chunk size line {line[:40]!r}")
            self._left = int(matched[1], 16)
            if not self._left:
                break
            async for data in self._by_length():
                yield data
            if await connection._line(self._timeout, "chunk end"):  # noqa: SLF001
                raise httpcore.RemoteProtocolError("chunk longer than its size")
        while await connection._line(self._timeout, "trailer"):  # noqa: SLF001
            pass  # trailers: not used

    async def aclose(self) -> None:
        # Once: a late second close must not touch the connection, given back and perhaps taken since.
        if self._closed:
            return
        self._closed = True
        connection = self._connection
        if connection._closed:  # noqa: SLF001
            return
        if self._complete and self._reusable and not connection._buffer:  # noqa: SLF001 (nothing may follow the body)
            connection._given_back()  # noqa: SLF001
        else:
            await connection.aclose()
