"""Fetching a list: conditional GET through the one way out, caps on size, time and redirects.

Where a URL came from decides what it may be (``Trust``): a source's ``url`` that the operator
wrote in config.yaml may be ``file://`` (a local copy); a URL learned from outside — a link
on an index page, a list found there, a next-page link, a redirect's ``Location`` — is http(s)
only. Every http(s) request goes through ``netguard.GuardedClient``, with
``http.allow_private_addresses`` deciding which addresses it may reach, and redirects are
followed here, hop by hop, so each hop is checked like the first and no redirect body is read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from monitor.config import Config, HttpSettings, SourceConfig
from monitor.errors import FetchError
from monitor.net_failures import failure_of
from monitor.netguard import AddressPolicy, GuardedClient, Resolver, parse_target, read_capped, redirect_target

__all__ = ["Fetched", "Trust", "fetch_document", "trust_of"]


class Trust(Enum):
    """Who chose a URL, which decides its schemes."""

    CONFIGURED = "configured"  # the operator, as a source's url in config.yaml: file:// too
    LEARNED = "learned"        # a page, a list or a server: http(s) only


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    status: int
    # Never in the repr: asyncio.run formats its main task (whose result this is) when it
    # restores the SIGINT handler, which cost a 30 MB list seconds and 100+ MB of text.
    body: bytes = field(default=b"", repr=False)
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def trust_of(config: Config, source: SourceConfig) -> Trust:
    """CONFIGURED only for a source config.yaml names with this very url; a list found on an index is LEARNED."""
    written = any(s.id == source.id and s.url == source.url for s in config.sources)
    return Trust.CONFIGURED if written else Trust.LEARNED


async def fetch_document(url: str, settings: HttpSettings, *, trust: Trust, etag: str | None = None,
                         last_modified: str | None = None, resolver: Resolver | None = None) -> Fetched:
    """The whole body of ``url``, or a FetchError saying in one line why not.

    ``resolver`` replaces the system's getaddrinfo (tests).
    """
    if url.lower().startswith("file://"):
        if trust is not Trust.CONFIGURED:
            raise FetchError(f"{url}: file:// is read only for a source's url in config.yaml, not for a URL found on a page")
        return _read_file(url, settings)
    try:
        async with asyncio.timeout(settings.total_timeout_s):
            return await _get(url, settings, _conditions(etag, last_modified), resolver)
    except TimeoutError:
        raise FetchError(f"{url}: no complete answer within {settings.total_timeout_s:g} s") from None
    except (httpx.HTTPError, FetchError) as exc:
        raise FetchError(f"{url}: {failure_of(exc).message}") from exc


def _conditions(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


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


def _client(settings: HttpSettings, resolver: Resolver | None) -> GuardedClient:
    timeout = httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)
    policy = AddressPolicy(allow_private_addresses=settings.allow_private_addresses)
    return GuardedClient(policy, timeout=timeout, headers={"User-Agent": settings.user_agent}, per_origin=1,
                         resolver=resolver)


async def _get(url: str, settings: HttpSettings, headers: dict[str, str], resolver: Resolver | None) -> Fetched:
    """GET ``url``, following at most ``http.max_redirects`` redirects, each to an http(s) URL."""
    current = url
    target = parse_target(url)
    async with _client(settings, resolver) as client:
        for _ in range(settings.max_redirects + 1):
            response = await client.send("GET", target, headers=headers)
            try:
                if not response.has_redirect_location:
                    return await _answer(response, current, headers, settings.max_bytes)
                current = redirect_target(current, response.headers["location"])
            finally:
                await response.aclose()
            target = parse_target(current)
    raise FetchError(f"more than {settings.max_redirects} redirects (http.max_redirects)")


async def _answer(response: httpx.Response, final_url: str, conditions: dict[str, str], cap: int) -> Fetched:
    if response.status_code == 304:
        return Fetched(url=final_url, status=304, etag=conditions.get("If-None-Match"),
                       last_modified=conditions.get("If-Modified-Since"))
    if response.status_code >= 400:
        raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
    body = await _read_body(response, cap)
    return Fetched(
        url=final_url,
        status=response.status_code,
        body=body,
        content_type=response.headers.get("content-type", ""),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )


async def _read_body(response: httpx.Response, cap: int) -> bytes:
    """The decoded body, refused once it passes ``cap`` bytes (so a gzip bomb is refused too)."""
    declared = response.headers.get("content-length", "")
    plain = response.headers.get("content-encoding", "identity").lower() in ("identity", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(f"{declared} bytes announced, over the {cap} byte cap (http.max_bytes)")
    body, more = await read_capped(response, cap)
    if more:
        raise FetchError(f"more than {cap} bytes, over the cap (http.max_bytes)")
    if plain and declared.isdigit() and len(body) < int(declared):
        raise FetchError(f"download cut short ({len(body)} of {declared} bytes)")
    return body
