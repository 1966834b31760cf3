"""The ASGI layer in front of every route: read-only, optional access control, safe headers.

* Only GET and HEAD reach the app (anything else is 405); HEAD is answered as GET without
  the body, so every page and feed supports it without a route of its own.
* With ``web.token`` and/or ``web.password`` set, a request needs ``Authorization: Bearer``
  with the token or HTTP Basic with the user name and password (compared in constant time).
* Every response forbids scripts, frames and outside resources (Content-Security-Policy),
  so even a mistake in escaping could not run a list's ``<script>``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from monitor.config import WebSettings

__all__ = ["Guard", "SECURITY_HEADERS"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Guard:
    def __init__(self, app: ASGIApp, settings: WebSettings, messages: dict[str, str]) -> None:
        self.app, self.settings, self.messages = app, settings, messages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await self._refuse(send, 405, self.messages["not_allowed"], [(b"allow", b"GET, HEAD")])
            return
        if not self._authorised(scope):
            challenge = [(b"www-authenticate", b'Basic realm="sesaku-monitor", charset="UTF-8"')] if self.settings.password else []
            await self._refuse(send, 401, self.messages["unauthorized"], challenge)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, self._wrap(send, head))

    def _wrap(self, send: Send, head: bool) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)
        return wrapped

    def _authorised(self, scope: Scope) -> bool:
        token, password = self.settings.token, self.settings.password
        if token is None and password is None:
            return True
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and token is not None:
            return _same(value.strip(), token)
        if scheme.lower() == "basic" and password is not None:
            try:
                user, _, given = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return _same(user, self.settings.username) & _same(given, password)
        return False

    async def _refuse(self, send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]]) -> None:
        body = (message + "\n").encode("utf-8")
        start = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()), *headers, *SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": status, "headers": start})
        await send({"type": "http.response.body", "body": body})
