"""The pure parts of link health: the recheck planner, page text, the ``links:`` section."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config import parse_config
from monitor.errors import ConfigError
from monitor.events import LinkOutcome as O
from monitor.links.outcome import LinkState
from monitor.links.record import plan_next_check
from monitor.config.links import LinkSettings
from monitor.links.page_text import page_text, text_change
from tests.links.health import T0

SETTINGS = LinkSettings()


@pytest.mark.parametrize(("state", "after"), [
    (LinkState(last_outcome=O.OK, last_ok_at=T0), timedelta(hours=24)),
    (LinkState(last_outcome=O.REDIRECTED), timedelta(hours=24)),
    (LinkState(consecutive_failures=1, last_outcome=O.NOT_FOUND), timedelta(hours=2)),
    (LinkState(last_outcome=O.BLOCKED), timedelta(hours=2)),          # inconclusive: look again soon
    (LinkState(dead=True, consecutive_failures=5, last_outcome=O.NOT_FOUND), timedelta(hours=6)),
])
def test_rechecks_are_planned_by_state(state: LinkState, after: timedelta) -> None:
    # A twentieth early, so that a run on the same rhythm finds it due.
    assert plan_next_check(state, T0, SETTINGS) == T0 + after * 0.95


def test_page_text_is_the_visible_text_only() -> None:
    body = ("<html><head><title>募集</title><script>var token='abc123';</script><style>p{}</style></head>"
            "<body><h1 class='x'>補助金</h1>\n   <p>募集期間:  5月</p><!-- c --></body></html>").encode()
    assert page_text(body) == "募集\n補助金\n募集期間: 5月"


def test_page_text_reads_a_shift_jis_page_by_its_meta_charset() -> None:
    body = '<html><head><meta charset="shift_jis"><title>お知らせ</title></head><body>本文</body></html>'.encode("cp932")
    assert page_text(body) == "お知らせ\n本文"


def test_markup_and_script_changes_are_no_text_change() -> None:
    old = page_text(b"<html><body><p>a</p><script>t=1</script></body></html>")
    new = page_text(b"<html><body>\n<p class='new'>a</p><script>t=2</script></body></html>")
    assert text_change(old, new) is None


@pytest.mark.parametrize(("old", "new", "summary"), [
    ("題\n募集期間: 5月", "題\n募集期間: 6月", "募集期間: 5月 → 募集期間: 6月"),
    ("題", "題\n締切を延長しました", "+ 締切を延長しました"),
    ("題\n受付終了", "題", "− 受付終了"),
    ("a\nb\nc\nd", "A\nb\nC\nd", "a → A (and 1 more change)"),
])
def test_text_change_summary(old: str, new: str, summary: str) -> None:
    assert text_change(old, new) == summary


def test_links_section_defaults() -> None:
    config = parse_config({"links": {"per_host": 4}})
    assert (config.links.dead_after, config.links.dead_min_hours, config.links.snapshot_pages) == (2, 12.0, True)
    assert (config.links.per_host, config.links.per_host_interval_s) == (4, 1.0)


@pytest.mark.parametrize(("links", "message"), [
    ({"dead_afer": 3}, "test: links.dead_afer: unknown key"),
    ({"per_host": 0}, "test: links.per_host: Input should be greater than or equal to 1"),
    ({"recheck_healthy_h": "daily"}, "test: links.recheck_healthy_h: Input should be a valid number"),
])
def test_links_section_errors_are_one_line(links: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"links": links}, "test")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
