"""The JSON API: the same read models as the pages, errors as JSON, an honest OpenAPI document."""

from __future__ import annotations

import pytest

from tests.web.conftest import PHONE_NAME, XSS_URL


def test_sources_and_a_list_as_of_a_day(served):
    _, client = served
    sources = {s["id"]: s for s in client.get("/api/sources").json()["items"]}
    assert sources["tama"]["records"] == 44 and sources["tama"]["dead_links"] == 1
    assert sources["nationwide"]["edition"] == "令和4年4月1日時点"
    before = client.get("/api/sources/tama", params={"as_of": "2026-04-01"}).json()
    assert before["total"] == 44 and "まちづくり推進コンシェルジュ" in {m["name"] for m in before["measures"]}


def test_measure_history_with_field_changes(served):
    db, client = served
    measure = client.get(f"/api/measures/{db.phone_measure}").json()
    assert measure["name"] == PHONE_NAME
    phones = [next(f for f in v["fields"] if f["column"] == "連絡先") for v in measure["versions"]]
    assert [p["value"] for p in phones] == ["03-5388-7777", "03-5388-9999", "03-5388-2443"]
    assert phones[0]["change"] == {"column": "連絡先", "old": "03-5388-9999", "new": "03-5388-7777", "runs": None}
    assert phones[2]["change"] is None


def test_link_with_its_history(served):
    db, client = served
    link = client.get(f"/api/links/{db.dead_link}").json()
    assert link["state"] == "dead" and len(link["checks"]) == 30
    assert [c["outcome"] for c in link["checks"]] == ["ok"] * 20 + ["not_found"] * 10
    assert client.get(f"/api/links/{db.js_link}").json()["url"] == XSS_URL
    assert [item["id"] for item in client.get("/api/links", params={"state": "dead"}).json()["items"]] == [db.dead_link]


@pytest.mark.parametrize(("path", "status"), [
    ("/api/measures/999999", 404), ("/api/measures/abc", 400), ("/api/measures/-1", 400), ("/api/events/999999", 404),
    ("/api/changes?page=-1", 400), ("/api/changes?from=2025-13-40", 400), ("/api/changes?kind=exploded", 400),
    ("/api/changes?from=2026-05-01&to=2026-04-01", 400), ("/api/sources/nope", 404),
    ("/api/nothing", 404),
])
def test_errors_are_json_with_a_message(served, path, status):
    _, client = served
    answer = client.get(path)
    assert answer.status_code == status
    body = answer.json()
    assert body["status"] == status and body["detail"]


def test_openapi_documents_the_api_and_its_errors(served):
    _, client = served
    document = client.get("/api/openapi.json").json()
    assert set(document["paths"]) == {
        "/api/sources", "/api/sources/{source_id}", "/api/changes", "/api/events/{event_id}",
        "/api/measures/{measure_id}", "/api/links", "/api/links/{link_id}", "/api/search", "/api/ending",
        "/api/sources/{source_id}/compare", "/api/links/{link_id}/repairs",
    }
    for operations in document["paths"].values():
        assert set(operations) == {"get"}
        assert {"200", "400", "404", "503"} <= set(operations["get"]["responses"]) and "422" not in operations["get"]["responses"]
