"""Numbers in paths and queries: out of range is a 404 (a path id) or a 400 (a query), never a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from web.params import MAX_ID, MAX_PAGE, bounded_int

HUGE = "9" * 5000  # past int()'s 4,300-digit limit
HTML_PAGES = ("/changes", "/links", "/sources/tama")
HTML_IDS = ("/measures", "/links")
API_PAGES = ("/api/changes", "/api/links", "/api/sources/tama")
API_IDS = ("/api/measures", "/api/links", "/api/events")
OUT_OF_RANGE = (HUGE, "-1", "0", str(MAX_ID + 1), str(2**63), "9" * 19)


@pytest.mark.parametrize(("text", "highest", "number"), [
    ("1", 10, 1), ("10", 10, 10), ("007", 10, 7), ("11", 10, None), ("0", 10, None), ("-1", 10, None),
    ("+1", 10, None), (" 1", 10, None), ("1_0", 10, None), ("１", 10, None), ("", 10, None),
    ("9" * 18, 10**18, 10**18 - 1), ("0" * 18 + "1", 10, None), (HUGE, 10, None),
])
def test_a_number_is_plain_digits_within_its_bounds(text, highest, number):
    assert bounded_int(text, highest) == number


def _html_refuses(client, value: str) -> None:
    for path in HTML_PAGES:
        page = client.get(path, params={"page": value})
        assert page.status_code == 400, (path, value[:40], page.status_code)
        assert '<p class="error">' in page.text and f"ページ番号 {value[:40]} は正しくありません" in page.text
    for path in HTML_IDS:
        page = client.get(f"{path}/{value}")
        assert page.status_code == 404, (path, value[:40], page.status_code)
        assert f"{value[:40]} はありません" in page.text and HUGE not in page.text


def _api_refuses(client, value: str) -> None:
    for url in [*(f"{path}?page={value}" for path in API_PAGES), *(f"{path}/{value}" for path in API_IDS)]:
        answer = client.get(url)
        assert (answer.status_code, answer.json()["status"]) == (400, 400), (url[:60], answer.status_code)
        assert len(answer.json()["detail"]) < 200


def test_every_route_refuses_a_number_out_of_range_with_a_short_message(served):
    """Pages: 400 for a query, 404 for an id in the path; the API: a JSON 400 (its ids are typed)."""
    _, client = served
    for value in OUT_OF_RANGE:
        _html_refuses(client, value)
        _api_refuses(client, value)
    assert client.get("/changes", params={"page": str(MAX_PAGE)}).status_code == 200
    assert client.get(f"/measures/{MAX_ID}").status_code == client.get(f"/api/measures/{MAX_ID}").status_code == 404


_NUMBERISH = st.tuples(st.sampled_from(["", "-", "+", "0", " ", "１", "%"]), st.integers(1, 6000), st.text(max_size=3)).map(
    lambda parts: parts[0] + "9" * parts[1] + parts[2])


@given(value=_NUMBERISH)
@example(value=HUGE)
@example(value="")  # "/measures/": a 404, not a redirect to a page that is not there either
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_number_makes_a_page_fail(served, value):
    _, client = served
    for path in HTML_PAGES:
        assert client.get(path, params={"page": value}).status_code in (200, 400), (path, value[:40])
    for path in HTML_IDS:
        assert client.get(f"{path}/{quote(value, safe='')}").status_code in (200, 404), (path, value[:40])
