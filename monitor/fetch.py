"""Fetching a list: conditional GET, caps on size, time and redirects, file:// for local copies."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from .config import HttpSettings
from .errors import FetchError

__all__ = ["Fetched", "fetch_document", "client_for"]


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def client_for(settings: HttpSettings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent},
        trust_env=False,
    )


async def fetch_document(url: str, settings: HttpSettings, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
    """The whole body of ``url``, or a FetchError saying in one line why not."""
    if url.lower().startswith("file://"):
        return _read_file(url, settings)
    try:
        return await asyncio.wait_for(_get(url, settings, etag, last_modified), settings.total_timeout_s)
    except TimeoutError:
        raise FetchError(f"{url}: no complete answer within {settings.total_timeout_s:g} s") from None


def _read_file(url: str, settings: HttpSettings) -> Fetched:
    path = Path(unquote(urlsplit(url).path))
    try:
        size = path.stat().st_size
        if size > settings.max_bytes:
            raise FetchError(f"{url}: {size} bytes is over the {settings.max_bytes} byte cap (http.max_bytes)")
        return Fetched(url=url, status=200, body=path.read_bytes())
    except FileNotFoundError:
        raise FetchError(f"{url}: no such file") from None
    except IsADirectoryError:
        raise FetchError(f"{url}: is a directory, not a file") from None
    except PermissionError:
        raise FetchError(f"{url}: permission denied") from None


async def _get(url: str, settings: HttpSettings, etag: str | None, last_modified: str | None) -> Fetched:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with client_for(settings) as client, client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return Fetched(url=str(response.url), status=304, etag=etag, last_modified=last_modified)
            if response.status_code >= 400:
                raise FetchError(f"{url}: HTTP {response.status_code} {response.reason_phrase}".rstrip())
            body = await _read_capped(response, url, settings.max_bytes)
            return Fetched(
                url=str(response.url),
                status=response.status_code,
                body=body,
                content_type=response.headers.get("content-type", ""),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
    except httpx.TooManyRedirects:
        raise FetchError(f"{url}: more than {settings.max_redirects} redirects (http.max_redirects)") from None
    except httpx.TimeoutException as exc:
        raise FetchError(f"{url}: timed out ({type(exc).__name__})") from exc
    except httpx.RemoteProtocolError as exc:
        raise FetchError(f"{url}: download cut short ({exc})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc


async def _read_capped(response: httpx.Response, url: str, cap: int) -> bytes:
    """The decoded body, refused once it passes ``cap`` bytes (so a gzip bomb is refused too)."""
    declared = response.headers.get("content-length", "")
    plain = response.headers.get("content-encoding", "identity").lower() in ("identity", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(f"{url}: {declared} bytes announced, over the {cap} byte cap (http.max_bytes)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise FetchError(f"{url}: more than {cap} bytes, over the cap (http.max_bytes)")
        chunks.append(chunk)
    if plain and declared.isdigit() and size < int(declared):
        raise FetchError(f"{url}: download cut short ({size} of {declared} bytes)")
    return b"".join(chunks)
