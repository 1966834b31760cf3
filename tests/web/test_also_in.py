"""One measure across lists (issue 18 item 6): the two seed lists both publish
「都のアセット開放等の取組の全国展開」; its page in each list names the other (「他の一覧にも掲載」),
search marks the hits, a rename in one list is noted on the other's page, and a measure that
only shares a name (other department, other content) is not taken for the same one."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from monitor.runtime.check import open_store, run_check
from store.database import transaction
from store.models import Measure
from store.siblings import siblings_of
from tests.conftest import NATIONWIDE, TAMA, make_config, seed_text, source_entry
from tests.runtime.test_check import clock, publish
from tests.versions import derive, insert_row, set_cell
from tests.web.conftest import serving
from web import create_app

SHARED = "都のアセット開放等の取組の全国展開"
RENAMED = "都のアセット開放等の取組の全国展開（5G基地局）"
RENAMED_NAME = "都のアセット開放等の取組の全国展開(5G基地局)"  # as stored: NFKC
NAME_ONLY = "地域を主体とするスマート東京先進事例創出事業"  # a 戦略2 name, given to an unrelated row below
NATIONWIDE_NAME = 4  # 事業名
UNRELATED = ["99", "港湾局", "観光", "新規", NAME_ONLY, "静岡県熱海市", "-", "クルーズ船の寄港誘致に向けた共同プロモーションを行う。", "-"]


class Lists:
    """Both seed lists on loopback, run once; ``rename()`` renames the shared measure in the nationwide list."""

    def __init__(self, site, database_url: str, **config) -> None:
        self.site, self.tick = site, clock()
        publish(site, "/tama.txt", seed_text(TAMA))
        self.nationwide = derive(seed_text(NATIONWIDE), insert_row(NATIONWIDE_NAME, SHARED, UNRELATED))
        publish(site, "/nationwide.txt", self.nationwide)
        self.config = make_config(database_url, source_entry("tama", site.url("/tama.txt")),
                                  source_entry("nationwide", site.url("/nationwide.txt")), **config)
        self.sessions = open_store(self.config)
        self.run()

    def run(self) -> None:
        run_check(self.config, self.sessions, clock=self.tick)

    def measure(self, source_id: str, name: str) -> int:
        with transaction(self.sessions) as session:
            return session.scalar(select(Measure.id).where(Measure.source_id == source_id, Measure.name == name))

    def rename(self) -> None:
        publish(self.site, "/nationwide.txt", derive(self.nationwide, set_cell(NATIONWIDE_NAME, SHARED, NATIONWIDE_NAME, RENAMED)))
        self.run()


def _get(lists: Lists, *paths: str) -> list[str]:
    with serving(create_app(lists.config, lists.sessions)) as base, httpx.Client(base_url=base, timeout=30) as client:
        return [client.get(path).text for path in paths]


def test_the_shared_measure_is_one_across_lists_and_a_shared_name_alone_is_not(site, database_url):
    lists = Lists(site, database_url)
    tama, nationwide = lists.measure("tama", SHARED), lists.measure("nationwide", SHARED)
    with transaction(lists.sessions) as session:
        found = siblings_of(session, [tama, nationwide, lists.measure("tama", NAME_ONLY), lists.measure("nationwide", NAME_ONLY)])
    assert {m: [s.measure_id for s in found[m]] for m in found} == {tama: [nationwide], nationwide: [tama]}

    tama_page, nationwide_page, other_page, hits = _get(
        lists, f"/measures/{tama}", f"/measures/{nationwide}", f"/measures/{lists.measure('tama', NAME_ONLY)}", "/search?q=アセット開放")
    assert "<h2>他の一覧にも掲載</h2>" in tama_page and f'href="/measures/{nationwide}">{SHARED}</a>' in tama_page
    assert "全国各地との連携事業一覧" in tama_page
    assert f'href="/measures/{tama}">{SHARED}</a>' in nationwide_page and "多摩のまちづくり 戦略2" in nationwide_page
    assert "他の一覧にも掲載" not in other_page
    assert f'他の一覧にも掲載: <a href="/measures/{nationwide}">全国各地との連携事業一覧</a>' in hits
    assert f'他の一覧にも掲載: <a href="/measures/{tama}">多摩のまちづくり 戦略2</a>' in hits


def test_a_rename_in_one_list_is_noted_on_the_others_page(site, database_url):
    lists = Lists(site, database_url)
    lists.rename()
    tama, nationwide = lists.measure("tama", SHARED), lists.measure("nationwide", RENAMED_NAME)
    tama_page, api = _get(lists, f"/measures/{tama}", f"/api/measures/{tama}")
    assert f'href="/measures/{nationwide}">{RENAMED_NAME}</a>' in tama_page
    assert f"その一覧で「{SHARED}」から名称変更" in tama_page
    assert '"also_in":[{"measure_id":%d' % nationwide in api.replace(" ", "")
