"""A digest people read (issue 18 item 8): old and new side by side, told apart by their labels
and strike-through/underline as well as colour; an ended measure says whom to ask and where it was."""

from __future__ import annotations

import re

from notifiers.digest import build_digest
from notifiers.render import render
from tests.notifiers.samples import NOW, event

BASE = "https://monitor.example.jp"
ENDED = {"key": "d", "name": "多摩の森林再生事業", "fields": {
    "施策": "多摩の森林再生事業", "施策概要": "間伐を支援する。" * 20, "担当部署": "産業労働局 農林水産部 森林課",
    "連絡先": "03-5320-4855", "URL": "https://www.sangyo-rodo.metro.tokyo.lg.jp/nourin/", "備考": "javascript:alert(1)"}}
CHANGED = {"key": "c", "name": "補助事業", "fields": {"連絡先": {"old": "03-5388-2443", "new": "03-5388-2450"},
                                                   "概要": {"old": "市町村が実施する地域の活性化に資する取組に補助金を交付する。" * 4,
                                                            "new": "市町村が実施するまちづくりの取組に補助金を交付する。" * 4}}}


def _message(language: str = "ja"):
    events = [event(1, "ended", ENDED, measure_id=4), event(2, "changed", CHANGED, measure_id=5)]
    return render(build_digest("team", events, now=NOW, base_url=BASE, language=language))


def test_an_ended_measure_carries_its_department_contact_and_url():
    message = _message()
    ended = message.text.split("【終了】")[1].split("【")[0]
    assert "    担当部署: 産業労働局 農林水産部 森林課" in ended and "    連絡先: 03-5320-4855" in ended
    assert "    URL: https://www.sangyo-rodo.metro.tokyo.lg.jp/nourin/" in ended
    assert "間伐" not in ended and "javascript" not in ended  # the summary is on the measure's page
    assert '<a href="https://www.sangyo-rodo.metro.tokyo.lg.jp/nourin/"' in message.html
    assert message.json["sources"][0]["kinds"][0]["entries"][0]["facts"][0] == {"label": "担当部署", "value": "産業労働局 農林水産部 森林課", "url": None}


def test_old_and_new_sit_side_by_side_labelled_struck_and_underlined():
    html = _message().html
    old = re.search(r'<td class="side old"[^>]*><span[^>]*>旧</span> (.*?)</td>', html).group(1)
    new = re.search(r'<td class="side new"[^>]*><span[^>]*>新</span> (.*?)</td>', html).group(1)
    assert re.fullmatch(r'<del style="[^"]*text-decoration:line-through;">03-5388-2443</del>', old)
    assert re.fullmatch(r'<ins style="[^"]*text-decoration:underline;">03-5388-2450</ins>', new)
    long_old, long_new = re.findall(r'<td class="side (?:old|new)"[^>]*><span[^>]*>[旧新]</span> (.*?)</td>', html)[2:4]
    assert ">する地域の活性化に資する</del>" in long_old and "<ins" not in long_old
    assert ">するまちづくりの</ins>" in long_new and "<del" not in long_new
    assert "td.side, td.item, td.detail { display:block !important;" in html  # stacked on a phone
    assert 'class="side old"' in _message("en").html and ">Old</span>" in _message("en").html


def test_the_text_digest_puts_old_and_new_of_a_long_text_on_their_own_lines():
    text = _message().text
    assert "    連絡先: 03-5388-2443 → 03-5388-2450" in text
    lines = text.split("    概要:\n")[1].splitlines()
    assert lines[0].startswith("      旧: 市町村が実施[-する地域の活性化に資する-]取組")
    assert lines[1].startswith("      新: 市町村が実施{+するまちづくりの+}取組")
