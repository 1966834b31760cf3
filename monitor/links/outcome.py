"""What a link check means: its outcome, whether the link moved, and dead/recovered/moved.

Everything here is pure — plain data in, plain data out, the clock passed in as ``now`` — so
the checker (``monitor/link_checker.py``) and the store can share it and tests need no network.

* ``classify(...)`` turns what came back (final status, redirect chain, body, content type)
  into a ``LinkOutcome``.
* ``permanent_move(...)`` says where a link moved to: a chain of permanent redirects
  (301/308 only) that ends at another real page.
* ``next_state(previous, result, now, ...)`` advances a link's ``LinkState`` by one check and
  says which ``Transition`` (``dead``, ``recovered``, ``moved``) it crossed, if any.

Which outcomes count against a link:

======================================================  ============================
``ok``, ``redirected``                                  healthy: reset the failures
``not_found``, ``gone_host``, ``soft_404``,             failing: count towards dead
``moved_to_top``, ``error``, ``invalid``, ``refused``
``blocked`` (401/403/429)                               inconclusive: changes nothing
======================================================  ============================

``blocked`` is neither: a page behind a login or a bot wall still exists for a person with a
browser, and a 429 says "later", not "gone"; counting it would report live pages as dead, and
treating it as ok would recover a dead link that merely started rate-limiting us. ``error``
(timeouts, 5xx) does count: one blip is absorbed by ``dead_after`` and ``dead_min_hours``,
and a server that answers 503 for days is dead to its readers.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit

from monitor.events import LinkOutcome

__all__ = [
    "FAILING",
    "HEALTHY",
    "CheckLike",
    "LinkState",
    "Transition",
    "classify",
    "is_top_page",
    "next_state",
    "not_found_phrase",
    "outcome_for_status",
    "permanent_move",
]


class Transition(StrEnum):
    """A change of a link's state worth an event (``link_dead`` …)."""

    DEAD = "dead"
    RECOVERED = "recovered"
    MOVED = "moved"


HEALTHY = frozenset({LinkOutcome.OK, LinkOutcome.REDIRECTED})
FAILING = frozenset({
    LinkOutcome.NOT_FOUND, LinkOutcome.GONE_HOST, LinkOutcome.SOFT_404, LinkOutcome.MOVED_TO_TOP,
    LinkOutcome.ERROR, LinkOutcome.INVALID, LinkOutcome.REFUSED,
})

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
# Phrases a "not found" page puts in its <title> or headings; matched after NFKC and lower().
_NOT_FOUND = re.compile(
    r"(?:お探しの|ご指定の|指定された|指定の|該当する|アクセスしようとした)?(?:ページ|ファイル|url)"
    r"[^。]{0,12}?(?:見つかりません|見つかりませんでした|存在しません|ありません|削除され)"
    r"|(?<!\d)404(?!\d)|page\s+not\s+found|not\s+found|page\s+(?:does\s+not|doesn't)\s+exist"
    r"|page\s+(?:cannot|can't|could\s+not)\s+be\s+found|no\s+longer\s+available",
)
_HEADINGS = re.compile(r"<(title|h1|h2)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_INDEX_PAGE = re.compile(r"^/(?:(?:index|default|top|home)\.(?:html?|php|aspx?|jsp|cgi|shtml))?$", re.IGNORECASE)


class CheckLike(Protocol):
    """What ``next_state`` and ``permanent_move`` read from a check result."""

    @property
    def url(self) -> str: ...
    @property
    def outcome(self) -> LinkOutcome: ...
    @property
    def final_url(self) -> str | None: ...
    @property
    def redirect_chain(self) -> Sequence[tuple[str, int]]: ...


def outcome_for_status(status: int) -> LinkOutcome:
    """The outcome an HTTP status gives on its own, before looking at redirects or the body."""
    if 200 <= status < 300:
        return LinkOutcome.OK
    if status in (404, 410):
        return LinkOutcome.NOT_FOUND
    if status in (401, 403, 429, 451):
        return LinkOutcome.BLOCKED
    # 408, 5xx, an unfollowed 3xx, other 4xx: something is wrong, perhaps only for now.
    return LinkOutcome.ERROR


def classify(url: str, status: int, final_url: str, redirect_chain: Sequence[tuple[str, int]],
             body_text: str | None = None, *, sibling_matches: bool = False) -> LinkOutcome:
    """The outcome of a completed exchange.

    ``body_text`` is the decoded (possibly capped) HTML or text of a 2xx response, or None
    when it was not read. ``sibling_matches`` is True when a made-up URL next to ``url`` came
    back with the same page: the host answers 200 for anything, so this page proves nothing.
    """
    outcome = outcome_for_status(status)
    if outcome is not LinkOutcome.OK:
        return outcome
    if sibling_matches or (body_text is not None and not_found_phrase(body_text) is not None):
        return LinkOutcome.SOFT_404
    if not redirect_chain:
        return LinkOutcome.OK
    if is_top_page(final_url) and not is_top_page(url):
        return LinkOutcome.MOVED_TO_TOP
    return LinkOutcome.REDIRECTED


def not_found_phrase(body_text: str) -> str | None:
    """The "page not found" phrase in the page's <title>, <h1> or <h2>, if there is one."""
    for match in _HEADINGS.finditer(body_text):
        text = html.unescape(_TAG.sub(" ", match.group(2)))
        text = unicodedata.normalize("NFKC", text).lower()
        found = _NOT_FOUND.search(text)
        if found:
            return found.group(0)
    return None


def is_top_page(url: str) -> bool:
    """True for a site's root: ``/`` or a root index page (``/index.html``, ``/top.html`` …)."""
    return bool(_INDEX_PAGE.match(urlsplit(url).path or "/"))


def permanent_move(result: CheckLike) -> str | None:
    """Where the link moved to: only permanent (301/308) hops, ending at another real page."""
    chain = result.redirect_chain
    if result.outcome is not LinkOutcome.REDIRECTED or not chain or result.final_url is None:
        return None
    if any(status not in _PERMANENT for _, status in chain):
        return None
    if _same_page(result.url, result.final_url):
        return None
    return result.final_url


def _same_page(a: str, b: str) -> bool:
    """http→https, a trailing slash or an index file name do not make another page."""
    def key(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url)
        path = re.sub(r"(?:index|default)\.(?:html?|php|aspx?|jsp)$", "", parts.path, flags=re.IGNORECASE)
        return (parts.hostname or "", path.rstrip("/"), parts.query)
    return key(a) == key(b)


@dataclass(frozen=True, slots=True)
class LinkState:
    """What the store keeps per link between checks."""

    dead: bool = False
    consecutive_failures: int = 0
    first_failure_at: datetime | None = None  # first failure of the current streak
    last_ok_at: datetime | None = None
    moved_to: str | None = None               # target of the last reported move
    last_outcome: LinkOutcome | None = None


def next_state(previous: LinkState, result: CheckLike, now: datetime, *, dead_after: int = 2,
               dead_min_hours: float = 12.0) -> tuple[LinkState, tuple[Transition, ...]]:
    """Advance ``previous`` by one check made at ``now``; return the new state and transitions.

    Dead: ``dead_after`` consecutive failing checks, the first at least ``dead_min_hours``
    before ``now``. Recovered: the first healthy check after dead. Moved: a healthy check whose
    permanent redirect ends somewhere other than the last reported target. A dead link that
    now redirects permanently to a new page gives both ``recovered`` and ``moved``.
    """
    outcome = result.outcome
    if outcome in FAILING:
        return _failed(previous, outcome, now, dead_after, timedelta(hours=dead_min_hours))
    if outcome not in HEALTHY:
        return replace(previous, last_outcome=outcome), ()
    transitions: list[Transition] = [Transition.RECOVERED] if previous.dead else []
    target = permanent_move(result)
    if target is not None and target != previous.moved_to:
        transitions.append(Transition.MOVED)
    state = LinkState(last_ok_at=now, moved_to=target, last_outcome=outcome)
    return state, tuple(transitions)


def _failed(previous: LinkState, outcome: LinkOutcome, now: datetime, dead_after: int,
            dead_min: timedelta) -> tuple[LinkState, tuple[Transition, ...]]:
    first = previous.first_failure_at or now
    failures = previous.consecutive_failures + 1
    becomes_dead = not previous.dead and failures >= dead_after and now - first >= dead_min
    state = replace(previous, dead=previous.dead or becomes_dead, consecutive_failures=failures,
                    first_failure_at=first, last_outcome=outcome)
    return state, (Transition.DEAD,) if becomes_dead else ()
