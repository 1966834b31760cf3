"""render: subject with counts, text and HTML from the built-in or a user's templates, JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from monitor.errors import NotifyError
from notifiers.digest import build_digest
from monitor.config.notifiers import check_template_dir
from notifiers.render import render
from tests.notifiers.samples import NOW, all_kinds, counted_events

BASE = "https://monitor.example.jp"


def test_subject_names_the_one_list_and_says_the_counts() -> None:
    message = render(build_digest("team", counted_events(), now=NOW))
    assert message.subject == "[sesaku-monitor] 「地元自治体が活用できる施策【戦略2】」 追加 3・終了 1・リンク切れ 2"
    english = render(build_digest("team", counted_events(), now=NOW, language="en"))
    assert english.subject == "[sesaku-monitor] 地元自治体が活用できる施策【戦略2】: Added 3 · Ended 1 · Link dead 2"
    # Several lists (and link events shared by them): the counts alone.
    several = render(build_digest("team", all_kinds() + counted_events(), now=NOW, language="en")).subject
    assert several.startswith("[sesaku-monitor] Source failing 1 · Source suspect 1 ·") and "戦略2" not in several


def test_text_has_counts_first_then_details() -> None:
    text = render(build_digest("team", all_kinds() + counted_events(), now=NOW, base_url=BASE)).text
    assert text.index("■ 概要") < text.index("【変更】")
    assert "  合計: 17件" in text
    assert "    予算: 100 → 120" in text
    assert "      旧: …めた計画に基づき、多摩地域の市町村が実施[-する地域の活性化に資する-]取組に" in text
    assert "      新: …めた計画に基づき、多摩地域の市町村が実施{+するまちづくりの+}取組に" in text
    assert "    移転先: https://www.metro.tokyo.lg.jp/a" in text
    assert f"<{BASE}/links/7>" in text
    assert "None" not in text


def test_html_is_escaped_and_links_only_to_web_urls() -> None:
    html = render(build_digest("team", counted_events(), now=NOW, base_url=BASE)).html
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;局&lt;/b&gt;" in html
    assert 'href="javascript:' not in html
    assert f'<a href="{BASE}/measures/2"' in html
    # Mail clients drop remote resources, and some drop <style>: inline styles carry the look,
    # the one <style> only stacks old and new on a phone.
    assert html.count("<style") == 1 and "@media screen and (max-width: 600px)" in html
    assert "<link" not in html and "src=" not in html


def test_html_tables_show_word_diff_as_del_and_ins() -> None:
    html = render(build_digest("team", all_kinds(), now=NOW)).html
    assert ">する地域の活性化に資する</del>" in html and ">するまちづくりの</ins>" in html
    # Without base_url the only links are the live pages the events name.
    assert set(re.findall(r'href="([^"]*)"', html)) == {
        "https://ok.example.jp/",
        "http://www.metro.tokyo.jp/a",
        "https://www.metro.tokyo.lg.jp/a",
        "https://page.example.jp/",
    }


def test_all_quiet_message() -> None:
    message = render(build_digest("team", [], now=NOW, all_quiet=True))
    assert message.subject == "[sesaku-monitor] 変更なし"
    assert "前回の通知以降、変更はありません。" in message.text and "変更はありません" in message.html
    assert message.json["all_quiet"] is True and message.json["sources"] == []


def test_json_payload_is_plain_json_with_counts_and_details() -> None:
    message = render(build_digest("team", counted_events(), now=NOW, base_url=BASE))
    payload = json.loads(json.dumps(message.json, ensure_ascii=False))
    assert payload["schema"] == "sesaku-monitor.digest/1"
    assert payload["counts"] == {"added": 3, "ended": 1, "link_dead": 2}
    assert payload["event_ids"] == [1, 2, 3, 4, 5, 6]
    entry = payload["sources"][0]["kinds"][0]["entries"][0]
    assert entry["title"] == "多摩の森林再生事業" and entry["url"] == f"{BASE}/measures/1"


def test_a_users_template_overrides_only_what_it_defines(tmp_path: Path) -> None:
    (tmp_path / "subject.txt.j2").write_text("週報 {{ digest.total }}件 / {{ labels.total }}\n", encoding="utf-8")
    message = render(build_digest("team", counted_events(), now=NOW), template_dir=tmp_path)
    assert message.subject == "週報 6件 / 合計"
    assert "■ 概要" in message.text  # built-in text template still used


def test_syntax_error_in_a_users_template_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "digest.html.j2").write_text("<p>ok</p>\n<p>{% for x in %}</p>\n", encoding="utf-8")
    digest = build_digest("team", counted_events(), now=NOW)
    with pytest.raises(NotifyError) as caught:
        render(digest, template_dir=tmp_path)
    message = str(caught.value)
    assert f"{tmp_path / 'digest.html.j2'}, line 2:" in message and "\n" not in message
    with pytest.raises(NotifyError, match="line 2"):
        check_template_dir(tmp_path)


def test_undefined_name_in_a_users_template_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("{{ subject }}\n\n{{ digest.totl }}\n", encoding="utf-8")
    with pytest.raises(NotifyError) as caught:
        render(build_digest("team", counted_events(), now=NOW), template_dir=tmp_path)
    assert str(caught.value).startswith(f"template {tmp_path / 'digest.txt.j2'}, line 3: ")
    assert "totl" in str(caught.value)


def test_missing_template_directory(tmp_path: Path) -> None:
    with pytest.raises(NotifyError, match="does not exist"):
        render(build_digest("team", [], now=NOW, all_quiet=True), template_dir=tmp_path / "nope")
