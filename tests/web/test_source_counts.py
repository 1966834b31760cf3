"""A list's own summary (``/api/sources/{id}``) counts its dead links and recent changes by one
query each, for that list alone, on SQLite and PostgreSQL; the HTML page, which shows neither, is
served without them."""

from __future__ import annotations

from tests.web.test_overview import _served


def test_a_lists_summary_counts_only_the_dead_links_its_current_list_cites(database_url):
    with _served(database_url, 3, 50) as (client, ids, _):
        first, second = (client.get(f"/api/sources/{i}").json()["source"] for i in ids[:2])
        assert first["dead_links"] == 1 and first["recent_changes"] == {"changed": 2}
        assert second["dead_links"] == 0 and second["recent_changes"] == {}
        page = client.get(f"/sources/{ids[0]}")
        assert page.status_code == 200 and "施策" in page.text
