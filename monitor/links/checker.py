"""Check many URLs politely and quickly; plain data in, ``LinkCheckResult`` out, no database.

``check_links(urls, settings, http)`` is an async iterator of results in completion order; the
settings are config's ``links:`` as they load (``LinkSettings``, names as in config.yaml), and of
``http:`` only what holds for every request (address guard, User-Agent). Inside:

* **Rotation** (``Rotation``): URLs are grouped by host; a host is *ready* when it has work,
  fewer than ``per_host`` checks running and ``per_host_interval_s`` has passed since its last
  check started (or since a retry asked it to back off). ``concurrency`` workers take the
  ready hosts round-robin, so one slow or hanging host holds at most ``per_host``
  slots, for at most ``deadline_s`` seconds each, and never stalls the rest.
* **Exchanges**: every single HTTP request (redirect hops, HEAD→GET fallback and the sibling
  probe included, whatever host they go to) holds that host's semaphore of ``per_host``, so
  no host ever sees more than ``per_host`` requests in flight from one run. The interval is
  between checks, not between the hops of one check.
* **HEAD or GET**: GET by default, because an HTML page's body is needed for the soft-404
  test and for page snapshots; the body is streamed and cut at ``max_body_bytes``, and not
  read at all unless the page is 2xx HTML/text. HEAD only for URLs that name a document
  (``.pdf``, ``.xlsx`` …); a HEAD answered with an error (a server refusing or botching HEAD)
  or with 2xx HTML (a "document" that is really a page) is asked again with GET.
* **Redirects** are followed by hand, at most ``max_redirects``, each hop recorded in
  ``redirect_chain`` and each connection checked by ``monitor.netguard``; a loop is an error.
* **Time**: connect/read timeouts per socket operation plus ``deadline_s`` for the whole attempt,
  so a server that trickles one byte a second or never answers cannot hold a slot for long.
* **Retries** within the run only for transient failures (timeouts, dropped connections, 408,
  429, 5xx), backing off exponentially or by ``Retry-After``; a ``Retry-After`` longer than
  ``retry_after_cap_s`` is not waited for: the result stands.
* **Sibling probe**: for a 2xx page that does not say "not found", a made-up URL in the same
  directory is fetched once per host+directory per run; if it returns the same page (modulo
  the echoed path), the host answers 200 for anything and the page is a ``soft_404``.

httpx's and netguard's exceptions end here: each becomes an outcome and a one-line ``error``
by the one table of ``monitor.net_failures``.

**CPU.** On loopback a check costs about half a millisecond of CPU, most of it in the HTTP
stack, so that is where the cuts went: requests go through ``netguard.GuardedClient`` straight
to its transport, which keeps its own keep-alive connections per origin
(``netguard.HostPools``) on plain asyncio sockets (``monitor.asyncio_backend``); each worker
starts its next check as soon as one ends (``_run``); a page's fingerprint is taken only when
its sibling probe brought back a page to compare. One process,
on purpose: splitting hosts over worker processes would let a redirect hop to a host of the
other partition go past that host's ``per_host`` cap, and politeness comes before speed.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import ssl
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

import httpx

from monitor.config import HttpSettings
from monitor.config.links import LinkSettings
from monitor.errors import FetchError
from monitor.events import LinkOutcome
from monitor.links.outcome import HEALTHY, classify, is_top_page
from monitor.links.rotation import Bell, Item, Rotation
from monitor.net_failures import failure_of
from monitor.netguard import (AddressPolicy, GuardedClient, Resolver, UnsupportedURL, parse_target, read_capped,
                              redirect_target)

__all__ = ["LinkCheckResult", "Progress", "check_links", "terminal_progress"]

Progress = Callable[["LinkCheckResult"], None]
Clock = Callable[[], datetime]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
_DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods",
                      ".zip", ".lzh", ".csv", ".jpg", ".jpeg", ".png", ".gif", ".mp3", ".mp4", ".jtd")


@dataclass(frozen=True, slots=True)
class LinkCheckResult:
    """One check of one URL (the last attempt, when it was retried)."""

    url: str
    outcome: LinkOutcome
    http_status: int | None                      # of the last answer received; None: no answer
    final_url: str | None                        # the URL that answered last (after redirects)
    redirect_chain: tuple[tuple[str, int], ...]  # (url, status) of each redirect followed
    elapsed_ms: int
    error: str | None                            # one line, for a person
    body: bytes | None                           # capped; only for healthy HTML/text pages
    body_sha256: str | None                      # of the (capped) body whenever it was read
    content_type: str | None
    checked_at: datetime
    attempts: int = 1
    body_truncated: bool = False


async def check_links(urls: Iterable[str], settings: LinkSettings, http: HttpSettings, *, progress: Progress | None = None,
                      clock: Clock | None = None, resolver: Resolver | None = None,
                      ) -> AsyncIterator[LinkCheckResult]:
    """Check each distinct URL once; yield results as they complete.

    ``settings`` is config's ``links:``; of ``http:`` only the two switches that hold for
    everything the daemon fetches are read (``allow_private_addresses``, ``user_agent``).
    ``resolver`` replaces the system's getaddrinfo (tests); ``clock`` gives ``checked_at``.
    """
    rotation = Rotation(settings.per_host, settings.per_host_interval_s)
    invalid: list[LinkCheckResult] = []
    checker = _Checker(settings, http, clock or (lambda: datetime.now(UTC)), resolver)
    for url in dict.fromkeys(urls):
        try:
            rotation.add(_host_of(url), url)
        except UnsupportedURL as exc:
            invalid.append(checker.failure(url, LinkOutcome.INVALID, str(exc), time.monotonic()))
    async with checker.client():
        for result in invalid:
            yield _reported(result, progress)
        async for result in _run(rotation, checker, settings):
            yield _reported(result, progress)


@contextmanager
def terminal_progress(total: int) -> Iterator[Progress | None]:
    """A rich progress bar on stderr when it is a terminal; None (no bar) otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress as Bar  # only a terminal needs rich loaded

    with Bar(transient=True) as bar:
        task = bar.add_task("checking links", total=total)
        yield lambda result: bar.advance(task)


def _reported(result: LinkCheckResult, progress: Progress | None) -> LinkCheckResult:
    if progress is not None:
        progress(result)
    return result


async def _run(rotation: Rotation, checker: _Checker, settings: LinkSettings,
               ) -> AsyncIterator[LinkCheckResult]:
    """Up to ``concurrency`` workers check URLs; results come out in completion order.

    A worker starts its next check the moment one ends, with no trip through a central loop
    (on a busy run each trip added milliseconds to every check); the results reach the
    caller through a queue of ``concurrency`` places, so a slow caller slows the workers.
    """
    results: asyncio.Queue[LinkCheckResult | BaseException | None] = asyncio.Queue(maxsize=settings.concurrency)
    bell = Bell()
    # No more workers than checks that may run at once: a host job (one host) with 20 idle
    # workers woke all of them at every ring, and that polling cost more CPU than the checks.
    slots = min(settings.concurrency, rotation.pending, rotation.hosts * settings.per_host)
    workers = [asyncio.create_task(_work(rotation, checker, settings, results, bell)) for _ in range(slots)]
    try:
        finished = 0
        while finished < len(workers):
            result = await results.get()
            if result is None:
                finished += 1
            elif isinstance(result, BaseException):
                raise result
            else:
                yield result
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def _work(rotation: Rotation, checker: _Checker, settings: LinkSettings,
                results: asyncio.Queue[LinkCheckResult | BaseException | None], bell: Bell) -> None:
    """Take the next ready URL, check it, report or requeue it; until no URL is left."""
    try:
        while rotation.pending:
            now = time.monotonic()
            started = rotation.start(now)
            if started is None:
                bell.alarm(rotation.next_wake())
                await bell.wait()
                continue
            if rotation.has_ready(now):
                bell.ring()  # another host is ready too: one more worker for it
            else:
                bell.alarm(rotation.next_wake())
            host, item = started
            result, retry_in = await checker.check(item.url, item.attempt)
            if retry_in is not None and item.attempt <= settings.retries:
                rotation.retry(host, Item(item.url, item.attempt + 1), retry_in, time.monotonic())
            else:
                rotation.finish(host, time.monotonic())
                await results.put(result)
            bell.ring()
    except Exception as exc:  # a bug, not a link's problem: the caller must hear of it
        await results.put(exc)
    bell.ring()  # each worker leaving wakes the next, so that every one sees the end
    await results.put(None)


@dataclass(slots=True)
class _Trace:
    """What one attempt saw so far; kept when it ends in an exception."""

    url: str
    current: str  # the URL of the latest exchange (after redirects: the final URL)
    target: httpx.URL | None = None  # ``url`` parsed, while it is still the current one
    chain: list[tuple[str, int]] = field(default_factory=list)
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes | None = None
    truncated: bool = False


class _RedirectError(FetchError):
    """Raised when redirects loop or exceed ``max_redirects``."""


class _Checker:
    """Checks one URL at a time (many at once): exchanges, redirects, probe, outcome."""

    def __init__(self, settings: LinkSettings, http: HttpSettings, clock: Clock, resolver: Resolver | None) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._resolver = resolver
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._probes: dict[tuple[str, str], asyncio.Task[str | None]] = {}
        self._client: GuardedClient | None = None

    @asynccontextmanager
    async def client(self) -> AsyncIterator[None]:
        s = self._settings
        policy = AddressPolicy(allow_private_addresses=self._http.allow_private_addresses)
        timeout = httpx.Timeout(connect=s.connect_timeout_s, read=s.read_timeout_s, write=s.read_timeout_s, pool=s.deadline_s)
        headers = {"User-Agent": self._http.user_agent, "Accept-Language": "ja,en;q=0.5",
                   "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        async with GuardedClient(policy, timeout=timeout, headers=headers, verify=_tls_context(s.verify_tls), per_origin=s.per_host,
                                 max_pools=max(64, s.concurrency * 2), resolver=self._resolver) as self._client:
            try:
                yield
            finally:
                for probe in self._probes.values():
                    probe.cancel()

    async def check(self, url: str, attempt: int) -> tuple[LinkCheckResult, float | None]:
        """The result of one attempt and, when it failed transiently, seconds to wait before the next."""
        started = time.monotonic()
        trace = _Trace(url, url)
        try:
            async with asyncio.timeout(self._settings.deadline_s):
                await self._follow(trace)
                outcome = await self._outcome(trace)
        except TimeoutError:
            message = f"no complete answer within {self._settings.deadline_s:g}s"
            return self._from_trace(trace, LinkOutcome.ERROR, message, started, attempt), None
        except (httpx.HTTPError, FetchError) as exc:
            failure = failure_of(exc)
            retry_in = self._backoff(attempt) if failure.transient else None
            return self._from_trace(trace, failure.outcome, failure.message, started, attempt), retry_in
        result = self._from_trace(trace, outcome, None, started, attempt)
        return result, self._retry_after_status(trace, attempt)

    def failure(self, url: str, outcome: LinkOutcome, error: str, started: float) -> LinkCheckResult:
        return self._from_trace(_Trace(url, url), outcome, error, started, 1)

    async def _follow(self, trace: _Trace) -> None:
        """Exchange after exchange until a non-redirect answer; fills ``trace``."""
        trace.target = parse_target(trace.url)
        method = "HEAD" if trace.target.path.lower().endswith(_DOCUMENT_SUFFIXES) else "GET"
        seen = {trace.url}
        for _ in range(self._settings.max_redirects + 1):
            await self._exchange(trace, method)
            if method == "HEAD" and _head_not_enough(trace):
                method = "GET"
                await self._exchange(trace, method)
            location = trace.headers.get("location")
            if trace.status not in _REDIRECTS or not location:
                return
            target = redirect_target(trace.current, location)
            trace.chain.append((trace.current, trace.status))
            if target in seen:
                raise _RedirectError(f"redirect loop back to {target}")
            seen.add(target)
            trace.current, trace.target = target, None
        raise _RedirectError(f"more than {self._settings.max_redirects} redirects")

    async def _exchange(self, trace: _Trace, method: str) -> None:
        """One request under its host's cap; the body is read only for 2xx HTML/text to a GET."""
        client = self._client
        assert client is not None
        target = trace.target or parse_target(trace.current)
        host = target.host.lower()
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = asyncio.Semaphore(self._settings.per_host)
        async with gate:
            response = await client.send(method, target)
            try:
                headers = response.headers
                if response.has_redirect_location:
                    # Before the trace is touched: an unusable Location fails the exchange.
                    redirect_target(trace.current, headers["location"])
                trace.status, trace.headers = response.status_code, headers
                trace.body, trace.truncated = None, False
                if method == "GET" and response.is_success and _is_text(headers):
                    trace.body, trace.truncated = await read_capped(response, self._settings.max_body_bytes)
            finally:
                await response.aclose()

    async def _outcome(self, trace: _Trace) -> LinkOutcome:
        assert trace.status is not None
        text = _decode(trace.body, trace.headers) if trace.body is not None else None
        outcome = classify(trace.url, trace.status, trace.current, trace.chain, text)
        if outcome in HEALTHY and text is not None and self._settings.sibling_probe and not is_top_page(trace.url):
            sibling = await self._sibling_page(trace.url)
            if sibling is not None and sibling == _fingerprint(trace.body or b"", trace.url, trace.current):
                return classify(trace.url, trace.status, trace.current, trace.chain, text, sibling_matches=True)
        return outcome

    async def _sibling_page(self, url: str) -> str | None:
        """Fingerprint of what a made-up URL next to ``url`` returns (once per directory and run)."""
        parts = urlsplit(url)
        directory = parts.path.rsplit("/", 1)[0] + "/"
        key = (f"{parts.scheme}://{parts.netloc}".lower(), directory)
        if key not in self._probes:
            suffix = "." + parts.path.rsplit(".", 1)[1] if "." in parts.path.rsplit("/", 1)[1] else ""
            probe_url = f"{key[0]}{directory}{secrets.token_hex(8)}{suffix}"
            self._probes[key] = asyncio.create_task(self._probe(probe_url))
        probe = self._probes[key]
        if probe.done():  # the probe of a directory answers once; most checks of a run find it done
            return probe.result()
        # shield: one check hitting its deadline must not cancel the probe others wait for.
        return await asyncio.shield(probe)

    async def _probe(self, probe_url: str) -> str | None:
        trace = _Trace(probe_url, probe_url)
        try:
            async with asyncio.timeout(self._settings.deadline_s):
                await self._follow(trace)
        except (TimeoutError, httpx.HTTPError, FetchError):
            return None  # no answer from the made-up URL is no evidence either way
        if trace.body is None or trace.status is None or not 200 <= trace.status < 300:
            return None
        return _fingerprint(trace.body, probe_url, trace.current)

    def _retry_after_status(self, trace: _Trace, attempt: int) -> float | None:
        """Retry delay for a transient status (408, 429, 5xx); None when it must not be retried."""
        if trace.status not in _TRANSIENT_STATUS:
            return None
        asked = _retry_after(trace.headers.get("retry-after"), self._clock())
        if asked is None:
            return self._backoff(attempt)
        return asked if asked <= self._settings.retry_after_cap_s else None

    def _backoff(self, attempt: int) -> float:
        return min(self._settings.backoff_s * 2 ** (attempt - 1), self._settings.retry_after_cap_s)

    def _from_trace(self, trace: _Trace, outcome: LinkOutcome, error: str | None, started: float,
                    attempt: int) -> LinkCheckResult:
        body = trace.body
        return LinkCheckResult(
            url=trace.url, outcome=outcome, http_status=trace.status,
            final_url=trace.current if trace.status is not None or trace.chain else None,
            redirect_chain=tuple(trace.chain), elapsed_ms=round((time.monotonic() - started) * 1000),
            error=error, body=body if outcome in HEALTHY else None,
            body_sha256=hashlib.sha256(body).hexdigest() if body is not None else None,
            content_type=trace.headers.get("content-type"), checked_at=self._clock(),
            attempts=attempt, body_truncated=trace.truncated,
        )


_TLS_LOCK = threading.Lock()
_TLS: dict[bool, ssl.SSLContext] = {}


def _tls_context(verify: bool) -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle costs ~0.1 s of CPU, and a worker runs
    a checker per host job (it was most of a worker's CPU per check). Under a lock: the links jobs
    a worker starts together, each in its own thread, all missed a plain cache and each built one."""
    with _TLS_LOCK:
        if verify not in _TLS:
            _TLS[verify] = httpx.create_ssl_context(verify=verify)
        return _TLS[verify]


def _host_of(url: str) -> str:
    """The host whose turn a URL waits for; ``UnsupportedURL`` when it cannot be fetched.

    The standard library's split is enough to group URLs by host (and far cheaper than a
    full parse); the full check, ``parse_target``, comes once, when the URL's turn comes.
    """
    try:
        parts = urlsplit(url.strip())
        if parts.scheme in ("http", "https") and parts.hostname:
            return parts.hostname
    except ValueError:
        pass
    return parse_target(url).host.lower()


def _head_not_enough(trace: _Trace) -> bool:
    """A HEAD answer to ask again with GET: an error (HEAD refused or botched) or a 2xx page."""
    status = trace.status or 0
    return (status >= 400 and status != 429) or (200 <= status < 300 and _is_text(trace.headers))


def _is_text(headers: httpx.Headers) -> bool:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower() in _TEXT_TYPES


def _decode(body: bytes, headers: httpx.Headers) -> str:
    """Text of a body for phrase matching: declared charset, else UTF-8, else Shift_JIS."""
    charset = headers.get("content-type", "").partition("charset=")[2].strip(' "\'') or None
    for encoding in (charset, "utf-8", "cp932"):
        if encoding is None:
            continue
        try:
            return body.decode(encoding)
        except (UnicodeError, LookupError):  # UnicodeError: charset=undefined fails whatever the bytes
            continue
    return body.decode("utf-8", "replace")


def _fingerprint(body: bytes, *urls: str) -> str:
    """sha256 of a page with the URLs it was asked by removed (error pages often echo them)."""
    echoes: set[str] = set()
    for url in urls:
        path = urlsplit(url).path
        echoes |= {url, path, unquote(path), path.rsplit("/", 1)[-1], unquote(path.rsplit("/", 1)[-1])}
    # Longest first, so that the whole path goes before its last segment can break it up.
    for echo in sorted(echoes - {""}, key=len, reverse=True):
        body = body.replace(echo.encode("utf-8", "replace"), b"")
    return hashlib.sha256(body).hexdigest()


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked by a Retry-After header (delta-seconds or HTTP-date); None if absent or bad."""
    if not value:
        return None
    if value.strip().isascii() and value.strip().isdigit():  # "²" is a digit to isdigit, not to float
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None

