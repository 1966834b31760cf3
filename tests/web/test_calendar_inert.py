"""The iCalendar feed holds whatever a list's title and cells say, as text a calendar reads."""

from __future__ import annotations

from datetime import date, datetime, timezone

from icalendar import Calendar

from store.ending import Ending
from web.ending import ics_calendar
from web.labels import labels_for

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_a_title_with_line_breaks_or_control_characters_is_one_calendar_name() -> None:
    # A YAML block scalar (title: |) ends its title with a newline: the feed answered 500.
    ending = Ending(7, "tama", "多摩\r\nX-EVIL:1", "事業\r\nBEGIN:VEVENT", date(2026, 5, 1), {"所管": "局\nATTACH:x"})
    body = ics_calendar([ending], title="多摩の施策\nEND:VCALENDAR\x1b[2J\n", base_url="http://monitor.example.jp",
                        now=NOW, t=labels_for("ja"))
    calendar = Calendar.from_ical(body)
    assert calendar["x-wr-calname"] == "多摩の施策 END:VCALENDAR\\x1b[2J"
    (event,) = calendar.walk("VEVENT")
    assert "X-EVIL" not in event and "ATTACH" not in event
    assert str(event["summary"]).endswith("事業\\x0d\nBEGIN:VEVENT")
