"""What to write instead of a dead or moved link: candidates from plain data, no network.

``candidates(broken, live_hosts, successor_hosts)`` lists, best first, the URLs worth trying
(each with why it is suggested); ``monitor.links.repair_check`` checks them live and keeps
those that answer. The reasons, in order of trust:

1. ``redirect`` — the link's own permanent redirect target (``moved_to``): the site said so.
2. ``successor_host`` — the same path on the host that replaced this one (a suffix rule such as
   ``metro.tokyo.jp`` → ``metro.tokyo.lg.jp``, Tokyo's move of 2018–2024).
3. ``near_host`` — the same path on a known live host whose name is one label apart by at most
   ``NEAR_EDITS`` edits: OCR and retyping drop letters (the seed's ``www.toshisei…`` for
   ``www.toshiseibi…``). Only hosts with a recent ok check are known live, so a guess is a host
   we have seen answer, never a made-up name.
4. ``snapshot`` — no URL to write, but the page's last stored copy (``has_snapshot``) in the
   web view; it needs no live check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from rapidfuzz.distance import Levenshtein

__all__ = ["NEAR_EDITS", "BrokenLink", "Candidate", "Reason", "candidates"]

NEAR_EDITS = 2
_MIN_LABEL = 4  # "www" and "ww2" are different hosts, not a typo of each other


class Reason(StrEnum):
    REDIRECT = "redirect"
    SUCCESSOR_HOST = "successor_host"
    NEAR_HOST = "near_host"
    SNAPSHOT = "snapshot"


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """What is known of a dead or moved link."""

    url: str
    moved_to: str | None = None
    has_snapshot: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    url: str
    reason: Reason
    detail: str  # for a person: which rule or host made it


def candidates(broken: BrokenLink, live_hosts: Iterable[str], successor_hosts: Mapping[str, str]) -> list[Candidate]:
    """Every candidate for ``broken``, best first, each URL once; the snapshot last."""
    found: list[Candidate] = []
    if broken.moved_to and broken.moved_to != broken.url:
        found.append(Candidate(broken.moved_to, Reason.REDIRECT, "permanent redirect"))
    parts = urlsplit(broken.url)
    host = (parts.hostname or "").lower()
    if host:
        for old_suffix, new_suffix in successor_hosts.items():
            if _under(host, old_suffix) and not _under(host, new_suffix):
                successor = host[: len(host) - len(old_suffix.lstrip("."))] + new_suffix.lstrip(".")
                found.append(Candidate(_on_host(broken.url, successor), Reason.SUCCESSOR_HOST, f"{old_suffix} → {new_suffix}"))
        live = sorted({h.lower() for h in live_hosts})
        for near in _near_hosts(host, live):
            found.append(Candidate(_on_host(broken.url, near), Reason.NEAR_HOST, f"{host} → {near}"))
    if broken.has_snapshot:
        found.append(Candidate(broken.url, Reason.SNAPSHOT, "last stored copy"))
    return _once(found)


def _under(host: str, suffix: str) -> bool:
    suffix = suffix.lower().lstrip(".")
    return host == suffix or host.endswith("." + suffix)


def _near_hosts(host: str, live: list[str]) -> list[str]:
    """Live hosts with the same labels but one, that one at most ``NEAR_EDITS`` edits away; closest first."""
    labels = host.split(".")
    scored: list[tuple[int, str]] = []
    for other in live:
        other_labels = other.split(".")
        if other == host or len(other_labels) != len(labels):
            continue
        differ = [(a, b) for a, b in zip(labels, other_labels) if a != b]
        if len(differ) != 1 or min(len(differ[0][0]), len(differ[0][1])) < _MIN_LABEL:
            continue
        edits = Levenshtein.distance(*differ[0], score_cutoff=NEAR_EDITS)
        if edits <= NEAR_EDITS:
            scored.append((edits, other))
    return [other for _, other in sorted(scored)]


def _on_host(url: str, host: str) -> str:
    parts = urlsplit(url)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _once(found: list[Candidate]) -> list[Candidate]:
    seen: set[tuple[str, bool]] = set()
    kept: list[Candidate] = []
    for candidate in found:
        key = (candidate.url, candidate.reason is Reason.SNAPSHOT)
        if key not in seen:
            seen.add(key)
            kept.append(candidate)
    return kept
