"""A `rekeyed` note (`sources rekey`) in a digest says what was done: how many measures were
re-keyed, how many got a new key or name, and the key and name columns they were given."""

from __future__ import annotations

from notifiers.digest import build_digest
from notifiers.render import render
from tests.notifiers.samples import NOW, event

REKEYED = {"measures": 44, "keys_changed": 44, "names_changed": 0, "key_columns": "施策 + 担当部署", "name_column": "施策", "unpaired": 3}


def _message(language: str = "ja"):
    return render(build_digest("team", [event(7, "rekeyed", REKEYED)], now=NOW, language=language))


def test_the_text_digest_lists_the_rekeyed_facts_in_japanese_and_english():
    ja = _message().text.split("【キーと名称の再計算】")[1]
    for line in ("再計算した施策: 44", "キーが変わった施策: 44", "名称が変わった施策: 0", "キー列: 施策 + 担当部署", "名称列: 施策", "最後の取得に見つからない施策: 3"):
        assert line in ja
    en = _message("en").text
    assert "Measures re-keyed: 44" in en and "Key columns: 施策 + 担当部署" in en and "Names changed: 0" in en


def test_the_html_digest_and_its_json_carry_the_rekeyed_facts():
    message = _message()
    assert "再計算した施策" in message.html and "施策 + 担当部署" in message.html
    facts = message.json["sources"][0]["kinds"][0]["entries"][0]["facts"]
    assert [(f["label"], f["value"]) for f in facts][:3] == [("再計算した施策", "44"), ("キーが変わった施策", "44"), ("名称が変わった施策", "0")]
