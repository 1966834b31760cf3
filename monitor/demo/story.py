"""``sesaku-monitor demo``: the whole story offline, in under a minute.

A web site on loopback publishes version 1 of the two shipped Tokyo lists and a page for
every URL they cite; a baseline is taken; the site then publishes version 2 (measures added,
ended, renamed, a phone changed, an end date passed, a new edition, pages dead, one moved to
the site's top page, one that says 「お探しのページは見つかりません」) and the monitor runs
again. Nothing leaves the machine and nothing needs configuring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

from monitor.lists.cells import extract_urls
from monitor.config import Config, parse_config
from monitor.demo.site import LoopbackSite, Route

__all__ = ["DemoSite", "demo_config", "SOURCES"]

NATIONWIDE, TAMA = "tokyo-nationwide-collaboration-r4.txt", "tokyo-tama-strategy2-measures.txt"
SOURCES: dict[str, dict[str, Any]] = {
    "tokyo-nationwide-collaboration": {
        "file": NATIONWIDE, "title": "全国各地との連携事業一覧（東京都 政策企画局）",
        "key_columns": ["所管局", "事業名"], "name_column": "事業名", "end_date_columns": ["備考"],
    },
    "tokyo-tama-strategy-2": {
        "file": TAMA, "title": "地元自治体が活用できる施策【戦略2】（東京都 都市整備局）",
        "key_columns": ["施策", "担当部署"], "name_column": "施策", "url_columns": ["URL"], "end_date_columns": ["備考"],
    },
}
_TOP_PAGE = "<html><head><title>東京都</title></head><body><h1>東京都トップページ</h1></body></html>"
_SOFT_404 = "<html><head><title>お探しのページは見つかりません｜東京都</title></head><body><h1>お探しのページは見つかりません</h1></body></html>"


def seed(name: str) -> str:
    return files("monitor.demo").joinpath("data", name).read_text(encoding="utf-8")


def _page(title: str) -> Route:
    return Route(f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>事業の概要です。</p></body></html>".encode(), content_type="text/html; charset=utf-8")


def _lines(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.split("\n")]


def _joined(rows: list[list[str]]) -> str:
    return "\n".join("\t".join(cells) for cells in rows)


def _row(rows: list[list[str]], column: int, value: str) -> list[str]:
    return next(cells for cells in rows if len(cells) > column and cells[column] == value)


def _passed_fiscal_year(today: date) -> int:
    """A Reiwa fiscal year that ended before ``today``, so the demo works in any year."""
    return today.year - 2 - 2018


def tama_version_2(text: str, today: date) -> str:
    rows = _lines(text)
    _row(rows, 0, "多摩の魅力発信プロジェクト")[0] = "多摩の魅力発信プロジェクト（旧：多摩PR事業）"
    _row(rows, 0, "多様な主体との連携活動促進補助金")[3] = "03-5388-2450"
    _row(rows, 0, "燃料電池自動車等の普及促進事業")[5] = f"申請期間：令和{_passed_fiscal_year(today)}年度まで"
    rows.remove(_row(rows, 0, "まちづくり推進コンシェルジュ"))
    index = rows.index(_row(rows, 0, "市町村土木補助事業"))
    rows.insert(index + 1, ["多摩地域防災力強化事業", "市町村の防災訓練と備蓄を支援する。", "総務局 総合防災部 防災計画課", "03-5388-2453", "https://www.bousai.metro.tokyo.lg.jp/tama/index.html", "令和10年度まで"])
    return _joined(rows)


def nationwide_version_2(text: str) -> str:
    text = text.replace("令和4年度 全国各地との連携事業一覧(令和4年4月1日時点)", "令和5年度 全国各地との連携事業一覧(令和5年4月1日時点)")
    rows = _lines(text)
    rows.remove(_row(rows, 4, "東京マラソン10km招待事業"))
    last = rows.index(_row(rows, 0, "79"))
    rows.insert(last + 1, ["80", "デジタルサービス局", "DX", "新規", "区市町村DX協働事業", "全国道府県", "-", "自治体のデジタル化の知見を共有する。", ""])
    return _joined(rows)


@dataclass
class DemoSite:
    """The loopback site with both versions; ``publish_version(n)`` switches what it serves."""

    site: LoopbackSite
    today: date
    published: dict[str, bytes] = field(default_factory=dict)  # source id → the list's bytes served last

    def local(self, url: str) -> str:
        """A real government URL moved under the loopback site, its host kept in the path."""
        return f"{self.site.base_url}/{url.split('://', 1)[1]}"

    def list_path(self, source_id: str) -> str:
        return f"/lists/{source_id}.txt"

    def _localised(self, text: str) -> str:
        for url in sorted(set(extract_urls(text)), key=len, reverse=True):
            text = text.replace(url, self.local(url))
        return text

    def publish_version(self, number: int) -> dict[str, list[str]]:
        """Serve version ``number`` of every list and its pages; returns what changed for pages."""
        texts = {source_id: seed(spec["file"]) for source_id, spec in SOURCES.items()}
        if number == 2:
            texts["tokyo-tama-strategy-2"] = tama_version_2(texts["tokyo-tama-strategy-2"], self.today)
            texts["tokyo-nationwide-collaboration"] = nationwide_version_2(texts["tokyo-nationwide-collaboration"])
        self.site.publish("/", Route(_TOP_PAGE.encode(), content_type="text/html; charset=utf-8"))
        for source_id, text in texts.items():
            self.published[source_id] = self._localised(text).encode("utf-8")
            self.site.publish(self.list_path(source_id), Route(self.published[source_id], content_type="text/plain; charset=utf-8"))
            for url in extract_urls(text):
                self.site.publish(self.local(url).removeprefix(self.site.base_url), _page(url.rsplit("/", 2)[-2] or url))
        return self._break_pages(texts) if number == 2 else {}

    def _break_pages(self, texts: dict[str, str]) -> dict[str, list[str]]:
        urls = [self.local(u).removeprefix(self.site.base_url) for u in extract_urls(texts["tokyo-tama-strategy-2"])]
        dead, top, soft = urls[1:3], urls[5], urls[7]
        for path in dead:
            self.site.remove(path)
        self.site.publish(top, Route(b"", status=301, headers={"Location": "/"}))
        self.site.publish(soft, Route(_SOFT_404.encode(), content_type="text/html; charset=utf-8"))
        return {"dead": dead, "moved_to_top": [top], "soft_404": [soft]}


DEMO_NOTIFIER = "demo-digest"
RECEIVER = "/digest-receiver"


def demo_settings(demo: DemoSite, database: Path) -> dict[str, Any]:
    """The demo's configuration as plain data (also written beside its database)."""
    sources = [
        {"id": source_id, "title": spec["title"], "url": demo.site.url(demo.list_path(source_id)), "format": "text-table",
         **{k: v for k, v in spec.items() if k not in ("file", "title")}}
        for source_id, spec in SOURCES.items()
    ]
    return {
        "database": {"url": f"sqlite:///{database}"},
        "http": {"allow_private_addresses": True, "total_timeout_s": 20},
        # One loopback host stands for every government site: no politeness pause, and a
        # page is dead at its first failure so that one revision tells the whole story.
        "links": {"per_host": 8, "per_host_interval_s": 0, "dead_after": 1, "dead_min_hours": 0, "sibling_probe": False},
        "sources": sources,
        # A webhook to the loopback site: the demo prints the digest exactly as it arrived.
        "notifiers": [{"id": DEMO_NOTIFIER, "type": "webhook", "options": {"url": demo.site.url(RECEIVER), "allow_private_address": True}}],
    }


def demo_config(demo: DemoSite, database: Path) -> Config:
    return parse_config(demo_settings(demo, database), "demo")


def run_demo(workdir: Path, console: Any, today: date | None = None) -> Path:
    """Run the two-version story and print what a user would be told; returns the database path."""
    from datetime import datetime, timedelta, timezone

    import yaml
    from rich.rule import Rule

    from monitor.runtime.check import open_store, run_check
    from monitor.demo.site import running_site
    from monitor.cli.textreport import print_run_report

    workdir.mkdir(parents=True, exist_ok=True)
    database = (workdir / "demo.db").resolve()
    database.unlink(missing_ok=True)
    start = datetime.now(timezone.utc)
    with running_site() as site:
        demo = DemoSite(site, today or start.date())
        demo.publish_version(1)
        site.publish(RECEIVER, Route(b"", status=204))
        config = demo_config(demo, database)
        sessions = open_store(config)
        console.print(Rule("1. version 1 of the lists and the pages they cite: the baseline"))
        print_run_report(console, run_check(config, sessions, clock=lambda: start))
        demo.publish_version(2)
        later = start + timedelta(days=1)
        console.print(Rule("2. a day later, version 2 is published and some pages are gone"))
        print_run_report(console, run_check(config, sessions, clock=lambda: later))
        console.print(Rule("3. the digest a subscriber received (webhook; email has the same text)"))
        for _, _, body in site.received:
            console.print(json.loads(body)["text"], markup=False, highlight=False)
    console.print(SPEED_NOTE, markup=False, highlight=False)
    settings = left_settings(demo, workdir, database)
    (workdir / "config.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return database


SPEED_NOTE = (
    "For speed the demo judged links as no real run would: dead at the first failure (dead_after: 1,"
    " dead_min_hours: 0; the defaults are 2 and 12) and no pause between requests to one host"
    " (per_host_interval_s: 0; the default is 1). The config.yaml it leaves keeps the defaults."
)


def left_settings(demo: DemoSite, workdir: Path, database: Path) -> dict[str, Any]:
    """The configuration the demo leaves behind: its database, its lists as local files (version 2,
    as last published, so `check` runs again offline), its notifier, and the default link rules."""
    lists = workdir / "lists"
    lists.mkdir(exist_ok=True)
    settings = demo_settings(demo, database)
    for source in settings["sources"]:
        path = (lists / f"{source['id']}.txt").resolve()
        path.write_bytes(demo.published[source["id"]])
        source["url"] = path.as_uri()
    settings.pop("links")
    settings["http"] = {"allow_private_addresses": True}
    # The loopback receiver is gone with the demo: previews still work, and `notify` says in one line
    # that nothing answers there (point `url` at a real receiver to get digests).
    settings["notifiers"][0]["options"]["url"] = "http://127.0.0.1:9/digest-receiver"
    return settings
