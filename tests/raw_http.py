"""A loopback HTTP/1.1 server that answers raw bytes, for the tests of our own HTTP code
(``monitor.http11`` under ``GuardedClient``, the link checker's transport): unlike
:class:`monitor.demo.site.LoopbackSite`, an answer may be anything, HTTP or not, framed or cut short.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable

__all__ = ["CLOSE", "RawHTTPServer"]

# An answer ending in this is sent without it, then the server hangs up.
CLOSE = b"<close>"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
# Bytes to send, or a function of the request (head and body) that gives them.
Answer = bytes | Callable[[bytes], bytes]


class RawHTTPServer:
    """On 127.0.0.1 in a thread of its own, optionally TLS: each request is answered with what is
    published in ``answers`` for its path (query left out; 404 for any other path). Counts connections
    and keeps every request, head and body."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.answers: dict[str, Answer] = {}
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> RawHTTPServer:
        self._thread.start()
        assert self._ready.wait(5), "the loopback server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._cancel_connections(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _cancel_connections(self) -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def _answer(self, request: bytes) -> bytes:
        path = request.split(b" ", 2)[1].decode("latin-1").split("?", 1)[0]
        answer = self.answers.get(path, NOT_FOUND)
        return answer(request) if callable(answer) else answer

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                self.requests.append(head + await reader.readexactly(length))
                answer = self._answer(self.requests[-1])
                writer.write(answer.removesuffix(CLOSE))
                await writer.drain()
                if answer.endswith(CLOSE):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass  # the client hung up, or the test is over
        finally:
            writer.close()
