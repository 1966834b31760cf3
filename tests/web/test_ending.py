"""What ends soon: the 「終了予定」 page, its JSON and the iCalendar feeds, read by a real iCalendar parser."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from icalendar import Calendar

from tests.web.conftest import XSS_NAME, WebDB, app_for, serving
from web.ending import department_of

# The measure the second version adds: 「令和10年度まで」, 総務局 <i>行政部</i>.
XSS_END = date(2029, 3, 31)


def _today(db: WebDB) -> date:
    return db.now.astimezone(db.config.tz).date()


def _events(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    return [component for component in calendar.walk("VEVENT")]


def test_the_json_lists_measures_ending_within_the_days_asked_soonest_first(served: tuple[WebDB, httpx.Client]) -> None:
    db, client = served
    today = _today(db)
    items = client.get("/api/ending", params={"days": "3650"}).json()["items"]
    ends = [date.fromisoformat(item["end_date"]) for item in items]
    assert ends == sorted(ends) and all(today <= end <= today + timedelta(days=3650) for end in ends)
    added = next(item for item in items if item["name"] == XSS_NAME)
    assert (added["end_date"], added["department"], added["measure_id"]) == (XSS_END.isoformat(), "総務局 <i>行政部</i>", db.xss_measure)
    soon = client.get("/api/ending").json()
    assert soon["days"] == 90 and all(date.fromisoformat(i["end_date"]) <= today + timedelta(days=90) for i in soon["items"])
    assert XSS_NAME not in {item["name"] for item in soon["items"]}


def test_the_page_groups_by_list_and_links_each_measure_inert(served: tuple[WebDB, httpx.Client]) -> None:
    db, client = served
    page = client.get("/ending", params={"days": "3650", "source": "tama"})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert f'href="/measures/{db.xss_measure}"' in page.text and "2029-03-31" in page.text
    assert 'href="/sources/tama/calendar.ics"' in page.text
    assert "終了予定" in client.get("/").text  # in the navigation


def test_the_calendar_has_one_all_day_event_per_end_date_with_a_stable_uid(served: tuple[WebDB, httpx.Client]) -> None:
    db, client = served
    first, again = client.get("/calendar.ics"), client.get("/calendar.ics")
    assert first.headers["content-type"].startswith("text/calendar")
    events = _events(first.content)
    ours = [e for e in events if XSS_NAME in str(e["SUMMARY"])]
    assert len(ours) == 1
    event = ours[0]
    assert event.decoded("DTSTART") == XSS_END and event.decoded("DTEND") == XSS_END + timedelta(days=1)
    assert str(event["URL"]).endswith(f"/measures/{db.xss_measure}") and "総務局" in str(event["DESCRIPTION"])
    assert [str(e["UID"]) for e in events] == [str(e["UID"]) for e in _events(again.content)]
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_a_list_has_its_own_calendar_and_an_unknown_list_none(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    tama = {str(e["URL"]).rsplit("/", 1)[-1] for e in _events(client.get("/sources/tama/calendar.ics").content)}
    everything = {str(e["URL"]).rsplit("/", 1)[-1] for e in _events(client.get("/calendar.ics").content)}
    nationwide = client.get("/api/ending", params={"days": "3650", "source": "nationwide"}).json()["items"]
    assert all(item["source_id"] == "nationwide" for item in nationwide)
    assert tama and tama <= everything and not tama & {str(item["measure_id"]) for item in nationwide}
    assert client.get("/sources/nope/calendar.ics").status_code == 404
    assert client.get("/api/ending", params={"source": "nope"}).status_code == 404


@pytest.mark.parametrize("days", ["0", "-1", "abc", "3651", "9" * 5000])
def test_a_bad_number_of_days_is_a_400(served: tuple[WebDB, httpx.Client], days: str) -> None:
    _, client = served
    assert client.get("/ending", params={"days": days}).status_code == 400
    assert client.get("/api/ending", params={"days": days}).status_code == 400


def test_calendar_links_never_come_from_the_request_host(sqlite_db: WebDB) -> None:
    with serving(app_for(sqlite_db, base_url="https://monitor.example.jp")) as base:
        body = httpx.get(base + "/calendar.ics", headers={"Host": "evil.example"}).content
    urls = {str(e["URL"]) for e in _events(body)}
    assert urls and all(url.startswith("https://monitor.example.jp/measures/") for url in urls)


def test_the_department_is_the_first_column_named_like_one() -> None:
    assert department_of({"施策": "x", "担当部署": "都市整備局", "連絡先": "03"}) == "都市整備局"
    assert department_of({"No.": "1", "所管局": "政策企画局", "事業名": "y"}) == "政策企画局"
    assert department_of({"施策": "x", "担当部署": "  "}) == ""
