"""Citations follow the cell (issue 16 item 7): a row whose link target changes behind an
unchanged text cites and checks the new URL, and the URL it no longer cites is not checked
again, so it never becomes ``link_dead``.

An HTML list (the href behind 「詳細」) and an .xlsx list (a hyperlink built by openpyxl), each
on a loopback site, on SQLite and PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from monitor.demo.site import LoopbackSite, Route
from monitor.runtime.check import open_store, run_check
from store.database import transaction
from store.models import Event, Link, LinkCheck, MeasureLink, MeasureVersion
from tests.conftest import make_config
from tests.links.health import FAST_LINKS, HTML, T0
from tests.lists.documents import CONTENT_TYPES

ROWS = [("多摩の魅力発信プロジェクト", "政策企画局"), ("市町村土木補助事業", "都市整備局"), ("まちづくり推進コンシェルジュ", "都市整備局")]
DAY = timedelta(days=1)


def html_list(targets: list[str]) -> tuple[bytes, str]:
    rows = "".join(f"<tr><td>{name}</td><td>{dept}</td><td><a href='{href}'>詳細</a></td></tr>" for (name, dept), href in zip(ROWS, targets, strict=True))
    page = f"<html><head><meta charset='utf-8'><title>施策一覧</title></head><body><table><tr><th>施策</th><th>担当</th><th>詳細</th></tr>{rows}</table></body></html>"
    return page.encode("utf-8"), HTML


def xlsx_list(targets: list[str]) -> tuple[bytes, str]:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["施策", "担当", "詳細"])
    for (name, dept), href in zip(ROWS, targets, strict=True):
        sheet.append([name, dept, "詳細"])
        sheet.cell(row=sheet.max_row, column=3).hyperlink = href
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), CONTENT_TYPES[".xlsx"]


@pytest.mark.parametrize(("fmt", "publish"), [("html-table", html_list), ("xlsx", xlsx_list)])
def test_a_link_changed_behind_the_same_text_is_cited_and_the_old_one_never_dies(database_url, site: LoopbackSite, fmt, publish):
    for page in ("a0", "a1", "a2", "b1"):
        site.publish(f"/pages/{page}.html", Route(f"<html><body><p>{page} のページ</p></body></html>".encode(), content_type=HTML))
    old = [site.url(f"/pages/a{n}.html") for n in range(3)]
    new = [old[0], site.url("/pages/b1.html"), old[2]]
    config = make_config(database_url, {"id": "tama", "title": "施策一覧", "url": site.url("/list"), "format": fmt,
                                        "key_columns": ["施策"], "name_column": "施策"}, links=FAST_LINKS)
    sessions = open_store(config)

    def run(moment):
        return run_check(config, sessions, clock=lambda: moment)

    body, content_type = publish(old)
    site.publish("/list", Route(body, content_type=content_type))
    assert run(T0).sources[0].status == "baseline"

    # The publisher points 「詳細」 of the second row elsewhere, and takes the old page down.
    body, content_type = publish(new)
    site.publish("/list", Route(body, content_type=content_type))
    site.remove("/pages/a1.html")
    second = run(T0 + DAY)
    assert not (second.sources[0].added or second.sources[0].ended or second.sources[0].changed)  # the text did not change
    reports = [run(T0 + n * DAY) for n in range(2, 5)]

    with transaction(sessions) as session:
        links = {link.url: link for link in session.scalars(select(Link))}
        assert links[new[1]].cited and links[new[1]].outcome == "ok"
        assert not links[old[1]].cited
        checks = dict(session.execute(select(Link.url, func.count()).join(LinkCheck, LinkCheck.link_id == Link.id).group_by(Link.url)).all())
        assert checks[old[1]] == 1, "the old URL is checked only while it was cited"
        assert checks[new[1]] >= 2
        kinds = session.scalars(select(Event.kind)).all()
        assert "link_dead" not in kinds and "changed" not in kinds
        open_versions = session.scalar(select(func.count()).select_from(MeasureVersion).where(MeasureVersion.valid_to.is_(None)))
        assert open_versions == 3
    assert all(not report.links.dead for report in reports)


def test_a_list_cited_in_several_parts_ties_every_version_to_its_links_once(database_url, site: LoopbackSite, monkeypatch):
    """The links of a long list's versions are cited some thousands at a time (monitor.lists.versioning):
    a URL every row cites is one link, found again by the later parts, and the last part is cited too."""
    monkeypatch.setattr("monitor.lists.versioning._CITE_ROWS", 1000)
    common = "https://example.lg.jp/common.html"

    def publish(rows: int, edition: str) -> None:
        lines = ["施策,担当,URL", *(f"施策{n},局{n % 7},{common} https://example.lg.jp/{edition}/{n}.html" for n in range(rows))]
        site.publish("/list.csv", Route("\n".join(lines).encode("utf-8"), content_type="text/csv; charset=utf-8"))

    config = make_config(database_url, {"id": "long", "title": "長い一覧", "url": site.url("/list.csv"), "format": "csv",
                                        "key_columns": ["施策"], "name_column": "施策", "url_columns": ["URL"]})
    sessions = open_store(config)
    publish(2500, "v1")
    assert run_check(config, sessions, clock=lambda: T0).sources[0].status == "baseline"
    publish(2600, "v2")  # every row's own page moved, and 100 rows added
    report = run_check(config, sessions, clock=lambda: T0 + DAY).sources[0]
    assert (len(report.changed), len(report.added)) == (2500, 100)

    with transaction(sessions) as session:
        cited = session.execute(
            select(MeasureVersion.name, Link.url).join(MeasureLink, MeasureLink.measure_version_id == MeasureVersion.id)
            .join(Link, Link.id == MeasureLink.link_id).where(MeasureVersion.valid_to.is_(None))
        ).all()
        assert sorted(cited) == sorted(
            (f"施策{n}", url) for n in range(2600) for url in (common, f"https://example.lg.jp/v2/{n}.html"))
        assert session.scalar(select(func.count()).select_from(Link).where(Link.url == common)) == 1
        assert session.scalar(select(func.count()).select_from(Link)) == 1 + 2500 + 2600
