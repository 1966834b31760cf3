"""classify, permanent_move and next_state: pure, no network, the clock passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from monitor.events import LinkOutcome as O
from monitor.links.outcome import (LinkState, Transition as T, classify,
                                  next_state, not_found_phrase, permanent_move)

PAGE = "https://www.example.lg.jp/seisaku/tama/shien.html"


def html(title: str = "施策", h1: str = "", body: str = "") -> str:
    return f"<html><head><title>{title}</title></head><body><h1>{h1}</h1><p>{body}</p></body></html>"


@pytest.mark.parametrize(("status", "expected"), [
    (200, O.OK), (204, O.OK), (404, O.NOT_FOUND), (410, O.NOT_FOUND), (401, O.BLOCKED), (403, O.BLOCKED),
    (429, O.BLOCKED), (500, O.ERROR), (503, O.ERROR), (408, O.ERROR), (400, O.ERROR), (302, O.ERROR),
])
def test_status_alone(status: int, expected: O) -> None:
    assert classify(PAGE, status, PAGE, []) is expected


@pytest.mark.parametrize("page", [
    html(title="お探しのページは見つかりません｜東京都"),
    html(h1="ページが見つかりません"),
    html(h1="指定されたページは存在しません"),
    html(title="404 Not Found"),
    html(title="Page not found - City"),
    html(h1="<span>ｐａｇｅ　ｎｏｔ　ｆｏｕｎｄ</span>"),   # full width, nested tag
    "<html><head><title>Error</title></head><body><h2 class=x>お探しのページが見つかりませんでした</h2></body></html>",
])
def test_soft_404_phrases_in_title_and_headings(page: str) -> None:
    assert not_found_phrase(page) is not None
    assert classify(PAGE, 200, PAGE, [], page) is O.SOFT_404


@pytest.mark.parametrize("page", [
    html(title="多摩のまちづくり支援", h1="地元自治体が活用できる施策"),
    html(body="お探しのページが見つからない場合はサイトマップをご覧ください"),  # not a heading
    html(title="令和4年度 4040件の相談"),
])
def test_real_pages_are_ok(page: str) -> None:
    assert classify(PAGE, 200, PAGE, [], page) is O.OK


def test_sibling_match_makes_a_soft_404() -> None:
    assert classify(PAGE, 200, PAGE, [], html(), sibling_matches=True) is O.SOFT_404


@pytest.mark.parametrize(("url", "final", "expected"), [
    (PAGE, "https://www.example.lg.jp/", O.MOVED_TO_TOP),
    (PAGE, "https://www.example.lg.jp/index.html", O.MOVED_TO_TOP),
    (PAGE, "https://www.example.lg.jp/top.html", O.MOVED_TO_TOP),
    (PAGE, "https://other.example.jp/", O.MOVED_TO_TOP),
    (PAGE, "https://www.example.lg.jp/seisaku/tama/index.html", O.REDIRECTED),
    (PAGE, "https://www.example.lg.jp/seisaku/new.html", O.REDIRECTED),
    ("http://www.example.lg.jp/", "https://www.example.lg.jp/index.html", O.REDIRECTED),
])
def test_redirect_endings(url: str, final: str, expected: O) -> None:
    assert classify(url, 200, final, [(url, 302)], html()) is expected


@dataclass(frozen=True)
class Check:
    url: str
    outcome: O
    final_url: str | None = None
    redirect_chain: tuple[tuple[str, int], ...] = ()


def moved(status: int, target: str, url: str = PAGE) -> Check:
    return Check(url, O.REDIRECTED, target, ((url, status),))


@pytest.mark.parametrize(("check", "expected"), [
    (moved(301, "https://www.example.lg.jp/new/shien.html"), "https://www.example.lg.jp/new/shien.html"),
    (moved(308, "https://www.example.metro.tokyo.lg.jp/seisaku/tama/shien.html"),
     "https://www.example.metro.tokyo.lg.jp/seisaku/tama/shien.html"),
    (moved(302, "https://www.example.lg.jp/new/shien.html"), None),          # temporary
    (moved(301, PAGE.replace("https", "http")), None),                         # same page
    (moved(301, PAGE + "/"), None),
    (Check(PAGE, O.MOVED_TO_TOP, "https://www.example.lg.jp/", ((PAGE, 301),)), None),
    (Check(PAGE, O.REDIRECTED, "https://b.example.jp/x", ((PAGE, 301), ("https://a.example.jp/x", 302))), None),
])
def test_permanent_move(check: Check, expected: str | None) -> None:
    assert permanent_move(check) == expected


NOW = datetime(2024, 4, 1, 9, 0, tzinfo=UTC)
OK = Check(PAGE, O.OK, PAGE)
GONE = Check(PAGE, O.NOT_FOUND, PAGE)


def run(checks: list[tuple[Check, float]], state: LinkState = LinkState(), **options: float
        ) -> tuple[LinkState, list[tuple[T, ...]]]:
    """Feed (check, hours after NOW) pairs through next_state; return the state and transitions."""
    seen = []
    for check, hours in checks:
        state, transitions = next_state(state, check, NOW + timedelta(hours=hours), **options)  # type: ignore[arg-type]
        seen.append(transitions)
    return state, seen


def test_dead_after_two_failures_far_enough_apart() -> None:
    state, seen = run([(GONE, 0), (GONE, 24)])
    assert seen == [(), (T.DEAD,)]
    assert state.dead and state.consecutive_failures == 2 and state.first_failure_at == NOW


def test_two_quick_failures_are_not_yet_dead() -> None:
    state, seen = run([(GONE, 0), (GONE, 1), (GONE, 11.9), (GONE, 12)])
    assert seen == [(), (), (), (T.DEAD,)]
    assert state.dead


def test_dead_is_reported_once() -> None:
    _, seen = run([(GONE, 0), (GONE, 24), (GONE, 48)])
    assert seen == [(), (T.DEAD,), ()]


def test_an_ok_between_failures_resets_the_count() -> None:
    state, seen = run([(GONE, 0), (OK, 24), (GONE, 48), (GONE, 49)])
    assert seen == [(), (), (), ()] and not state.dead and state.first_failure_at == NOW + timedelta(hours=48)


def test_recovered_on_the_first_ok_after_dead() -> None:
    state, seen = run([(GONE, 0), (GONE, 24), (OK, 48), (OK, 72)])
    assert seen == [(), (T.DEAD,), (T.RECOVERED,), ()]
    assert not state.dead and state.consecutive_failures == 0 and state.last_ok_at == NOW + timedelta(hours=72)


@pytest.mark.parametrize("failing", [O.NOT_FOUND, O.GONE_HOST, O.SOFT_404, O.MOVED_TO_TOP, O.ERROR, O.INVALID, O.REFUSED])
def test_every_failing_outcome_counts(failing: O) -> None:
    bad = Check(PAGE, failing)
    assert run([(bad, 0), (bad, 24)])[1] == [(), (T.DEAD,)]


def test_blocked_neither_counts_nor_resets_nor_recovers() -> None:
    blocked = Check(PAGE, O.BLOCKED, PAGE)
    state, seen = run([(GONE, 0), (blocked, 12), (GONE, 24)], dead_after=2)
    assert seen == [(), (), (T.DEAD,)]
    state, seen = run([(blocked, 36), (blocked, 48)], state)
    assert seen == [(), ()] and state.dead and state.last_outcome is O.BLOCKED


def test_dead_after_is_configurable() -> None:
    _, seen = run([(GONE, 0), (GONE, 24), (GONE, 48)], dead_after=3, dead_min_hours=0)
    assert seen == [(), (), (T.DEAD,)]


def test_moved_once_per_new_target() -> None:
    first = moved(301, "https://www.example.lg.jp/new.html")
    second = moved(301, "https://www.example.lg.jp/newer.html")
    state, seen = run([(OK, 0), (first, 24), (first, 48), (second, 72)])
    assert seen == [(), (T.MOVED,), (), (T.MOVED,)]
    assert state.moved_to == "https://www.example.lg.jp/newer.html"


def test_a_dead_link_that_now_moves_recovers_and_moves() -> None:
    state, seen = run([(GONE, 0), (GONE, 24), (moved(301, "https://new.example.jp/a.html"), 48)])
    assert seen[-1] == (T.RECOVERED, T.MOVED) and state.moved_to == "https://new.example.jp/a.html"


def test_temporary_redirect_is_not_a_move() -> None:
    _, seen = run([(moved(302, "https://www.example.lg.jp/maintenance.html"), 0)])
    assert seen == [()]
