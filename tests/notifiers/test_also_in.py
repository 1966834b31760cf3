"""A digest says where else a measure is listed (issue 18 item 6): an added, changed or renamed
measure that is also in another list carries 「他の一覧にも掲載: <that list>」 (a link to its page)."""

from __future__ import annotations

import json

from tests.conftest import TAMA, seed_text
from tests.notifiers.world import webhook_notifier
from tests.runtime.test_check import publish
from tests.versions import derive, set_cell
from tests.web.test_also_in import NAME_ONLY, SHARED, Lists

TAMA_PHONE = 3


def _digest_texts(receiver) -> list[str]:
    return [json.loads(body)["text"] for _, _, body in receiver.requests]


def test_a_changed_and_a_renamed_measure_say_which_other_list_has_it(site, database_url, receiver):
    hook = webhook_notifier(receiver.base + "/ok", base_url="https://monitor.example.jp")
    lists = Lists(site, database_url, notifiers=[hook])
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(0, SHARED, TAMA_PHONE, "03-5320-0000"),
                                      set_cell(0, NAME_ONLY, TAMA_PHONE, "03-5320-1111")))
    lists.run()
    lists.rename()
    changed, renamed = _digest_texts(receiver)
    entry = changed.split(f"・{SHARED}")[1].split("・")[0]
    assert "    他の一覧にも掲載: 全国各地との連携事業一覧" in entry
    assert changed.count("他の一覧にも掲載") == 1  # the same name with other content is not "also in"
    assert "    他の一覧にも掲載: 多摩のまちづくり 戦略2" in renamed
    payload = json.loads(receiver.requests[-1][2])
    facts = [f for s in payload["sources"] for k in s["kinds"] for e in k["entries"] for f in e["facts"]]
    assert {"label": "他の一覧にも掲載", "value": "多摩のまちづくり 戦略2", "url": f"https://monitor.example.jp/measures/{lists.measure('tama', SHARED)}"} in facts
