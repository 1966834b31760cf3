"""A body's ``Content-Encoding`` undone within its cap, so no answer inflates past it in memory.

httpx's decoders inflate each network chunk whole: 64 KiB of gzip became 64 MiB before a cap
could look at it, and ``Content-Encoding: gzip, gzip`` (a bomb inside a bomb, a few KB on the
wire) became gigabytes from a single chunk. Here every layer inflates no more than what is left
of the cap, plus one byte to tell "exactly the cap" from "over it", so memory stays near the cap
whatever the server sends. The encodings are httpx's without extras: ``gzip``/``x-gzip``,
``deflate`` (zlib-wrapped or raw, as servers disagree) and ``identity``; any other name is
passed through as it is, as httpx does. More than ``MAX_LAYERS`` encodings is refused: each
layer keeps a zlib window, and no server has a reason to stack them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import httpx

__all__ = ["CappedDecoder", "MAX_LAYERS"]

MAX_LAYERS = 3
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


# Input kept until a stream has proved itself: zlib knows its 2-byte header from the first bytes.
_HEAD_KEPT = 1024


class _Layer:
    """One zlib stream, inflated at most ``limit`` bytes at a time."""

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._zlib = zlib.decompressobj(wbits)
        # What came before the stream was known to be zlib-wrapped: a first chunk of one byte
        # passes the header check unjudged, and the raw deflate fallback needs it from the start.
        self._head: bytes | None = b""
        self.total = 0

    def inflate(self, data: bytes, limit: int) -> bytes:
        if self._head is not None:
            self._head += data
        try:
            out = self._zlib.decompress(data, limit)
        except zlib.error as exc:
            if self._head is None or self._wbits != zlib.MAX_WBITS:
                raise httpx.DecodingError(str(exc)) from exc
            # "deflate" without its zlib header: raw deflate, as httpx's decoder falls back to.
            head, self._head = self._head, b""
            self._wbits = -zlib.MAX_WBITS
            self._zlib = zlib.decompressobj(self._wbits)
            return self.inflate(head, limit)
        if out or (self._head is not None and len(self._head) >= _HEAD_KEPT):
            self._head = None
        self.total += len(out)
        return out


class CappedDecoder:
    """Feed it a response's raw chunks; ``over`` turns true once the decoded body passes ``cap``."""

    def __init__(self, encodings: Iterable[str], cap: int) -> None:
        names = [name.strip().lower() for name in encodings]
        wbits = [_WBITS[name] for name in names if name in _WBITS]
        if len(wbits) > MAX_LAYERS:
            raise httpx.DecodingError(f"{len(wbits)} content encodings stacked, more than the {MAX_LAYERS} read")
        self._layers = [_Layer(bits) for bits in reversed(wbits)]  # undone last-applied first
        self._cap = cap
        self._chunks: list[bytes] = []
        self._size = 0
        self.over = False

    def feed(self, raw: bytes) -> None:
        data = raw
        for layer in self._layers:
            # An intermediate layer larger than the cap could only inflate further past it.
            data = layer.inflate(data, self._cap - layer.total + 1)
            if layer.total > self._cap:
                self.over = True
        self._chunks.append(data)
        self._size += len(data)
        self.over = self.over or self._size > self._cap

    def body(self) -> bytes:
        """What was decoded, at most ``cap`` bytes of it."""
        body = b"".join(self._chunks)
        return body[: self._cap] if len(body) > self._cap else body
