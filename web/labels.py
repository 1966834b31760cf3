"""Every word the web view shows, in Japanese (the default) and English.

Templates never spell a label: they read ``t.<key>``; snapshot statuses and link states
have their own tables, event kinds and link outcomes the one shared by every reader
(:mod:`monitor.labels`), so an unknown value shows as itself. Words a digest shows too
(``old``, ``department`` …) come from there as well.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from monitor import labels
from monitor.messages import localized
from monitor.events import KINDS
from monitor.labels import Language

__all__ = ["KINDS", "LINK_STATES", "Language", "Labels", "labels_for"]

LINK_STATES = ("dead", "failing", "ok", "unchecked")

_UI = {
    "ja": {
        "site": "施策一覧モニター", "overview": "概要", "changes": "変更履歴", "links": "リンク", "feed": "Atomフィード",
        "api": "JSON API", "sources": "監視中の一覧", "last_run": "最終取得", "status": "状態",
        "records": "件数", "recent": "直近30日の変更", "dead_links": "リンク切れ",
        "latest": "最新の変更", "none": "ありません", "kind": "種類", "date_from": "開始日", "date_to": "終了日",
        "all": "すべて", "apply": "表示", "newer": "← 新しい変更", "older": "古い変更 →", "prev": "← 前へ", "next": "次へ →",
        "page": "ページ", "as_of": "時点", "show_as_of": "この日の一覧を表示", "current": "現在の一覧",
        "listed_as_of": "{date} 時点の一覧", "listed_now": "現在の一覧", "count": "{n} 件",
        "measure": "施策", "versions": "版の履歴", "version": "第{n}版", "valid": "掲載期間", "until_now": "現在まで",
        "field": "項目", "value": "内容", "changed_field": "変更", "measure_links": "参照リンク",
        "measure_events": "この施策の変更", "first_seen": "初出", "ended": "掲載終了", "expired": "期限切れ（終了日）",
        "key": "識別キー", "url": "URL", "state": "状態", "since": "発生",
        "last_checked": "最終確認", "last_ok": "最終正常", "http_status": "HTTP", "final_url": "転送先",
        "failures": "連続失敗", "cited_by": "参照している施策", "not_cited": "現在どの施策からも参照されていません",
        "history": "確認履歴", "chart": "確認結果と応答時間の推移", "response_ms": "応答時間 (ms)", "checked_at": "確認日時",
        "outcome": "結果", "no_checks": "まだ確認されていません", "link_state": "状態で絞り込み",
        "past_version": "過去の版", "when": "日時", "what": "内容", "retired": "監視終了", "not_in_config": "設定から削除（保存のみ）",
        "not_found": "見つかりません", "bad_request": "リクエストが正しくありません", "unavailable": "データベースを利用できません",
        "not_allowed": "この操作はできません（読み取り専用）", "unauthorized": "認証が必要です", "back": "概要へ戻る",
        "bad_date": "日付 {value} は正しくありません（YYYY-MM-DD の形式で指定してください）",
        "bad_page": "ページ番号 {value} は正しくありません（1 以上の整数）",
        "bad_kind": "種類 {value} はありません", "bad_state": "状態 {value} はありません", "bad_param": "パラメータ {name}={value} は正しくありません",
        "no_source": "一覧 {value} はありません", "no_measure": "施策 {value} はありません", "no_link": "リンク {value} はありません",
        "repairs": "修正候補", "repairs_note": "確認日時にアクセスでき、正常なページを返したもの（よい順）",
        "checked_ok": "確認", "snapshot_link": "保存した写しを見る", "no_snapshot": "リンク {value} の保存した写しはありません",
        "snapshot_title": "保存した写し", "snapshot_note": "このURLのページを最後に保存した時点の文字部分です（現在のページではありません）。",
        "no_event": "変更 {value} はありません", "no_page": "ページ {value} はありません", "range": "開始日が終了日より後です",
        "renamed_to": "{old} → {new}", "moved_to": "移転先: {url}",
        "feed_title": "施策一覧の変更", "feed_source_title": "{title} の変更",
        "moved": "移転先",
        "search": "検索", "search_hint": "名称・概要・担当・電話・URL を、すべての一覧の現在と過去の版から探します（空白で区切ると、すべてを含むもの）。",
        "renamed_there": "その一覧で「{old}」から名称変更", "also_ended": "その一覧では掲載終了",
        "search_results": "「{q}」の検索結果", "no_hits": "見つかりませんでした", "hit_current": "現行", "hit_ended": "{date} に掲載終了",
        "hit_superseded": "{date} まで（旧版）", "download": "ダウンロード",
        "bad_query": "検索語が長すぎます（{most} 文字、{terms} 語まで）", "bad_limit": "件数 {value} は正しくありません（1 から {most} までの整数）",
        "ending": "終了予定", "ending_within": "{days}日以内に終了予定の施策", "ending_intro": "現在掲載中の施策のうち、備考などから読み取った終了日が {first} から {last} までのもの。",
        "days": "期間（日）", "subscribe": "カレンダーに登録（iCalendar）",
        "bad_days": "日数 {value} は正しくありません（1 から {most} までの整数）",
        "calendar_title": "施策の終了予定", "calendar_source_title": "{title} の終了予定", "calendar_event": "終了予定: {name}",
        "compare": "2つの日付で比較", "compare_between": "{first} 終了時点の一覧と {last} 終了時点の一覧の違い",
        "compare_needs_dates": "比較する2つの日付を from と to に指定してください（YYYY-MM-DD）", 
        "not_monitored_yet": "この日付は監視開始前です（最初の取得は {since}）。", "api_guide": "JSON API の使い方",
        "api_intro": "この画面のすべての内容は JSON でも読めます（読み取り専用、認証は画面と同じ）。各項目と応答の形は OpenAPI 文書にあります:",
        "api_endpoint": "エンドポイント（例）", "api_example": "例", "api_also": "ほかに:",
        "api_sources": "監視中の一覧と最終取得の結果", "api_source": "一覧の内容（公表順）。as_of でその日の終わりの時点", "api_compare": "2つの日付の一覧の違い（追加・終了・変更・名称変更）",
        "api_changes": "変更（新しい順）。source・kind・from・to で絞り込み、page でページ送り", "api_measure": "施策の全版・参照リンク・変更",
        "api_search": "全一覧の現在と過去の版の検索", "api_ending": "days 日以内に終了予定の施策", "api_links": "リンク（state で絞り込み）",
        "api_link": "リンクの状態と確認履歴", "api_repairs": "リンク切れ・移転したリンクの修正候補（確認済み、よい順）", "api_event": "変更1件（フィードの各項目の id）",
        "before_monitoring": "監視の開始（{since}）より前の日付です。その日の一覧は記録がないため、最初に取得した一覧と比べています。",
    },
    "en": {
        "site": "Measure list monitor", "overview": "Overview", "changes": "Changes", "links": "Links", "feed": "Atom feed",
        "api": "JSON API", "sources": "Watched lists", "last_run": "Last run", "status": "Status",
        "records": "Records", "recent": "Changes, last 30 days", "dead_links": "Dead links",
        "latest": "Latest changes", "none": "None", "kind": "Kind", "date_from": "From", "date_to": "To",
        "all": "All", "apply": "Show", "newer": "← Newer", "older": "Older →", "prev": "← Previous", "next": "Next →",
        "page": "Page", "as_of": "As of", "show_as_of": "Show the list as of this day", "current": "Current list",
        "listed_as_of": "The list as of {date}", "listed_now": "The list as it stands", "count": "{n} measures",
        "measure": "Measure", "versions": "Versions", "version": "Version {n}", "valid": "Listed", "until_now": "now",
        "field": "Field", "value": "Value", "changed_field": "Changed", "measure_links": "Links cited",
        "measure_events": "Changes of this measure", "first_seen": "First seen", "ended": "Ended", "expired": "Expired (end date)",
        "key": "Key", "url": "URL", "state": "State", "since": "Since",
        "last_checked": "Last checked", "last_ok": "Last OK", "http_status": "HTTP", "final_url": "Ends at",
        "failures": "Failures in a row", "cited_by": "Cited by", "not_cited": "No measure cites it now",
        "history": "Check history", "chart": "Outcome and response time over time", "response_ms": "Response time (ms)",
        "checked_at": "Checked at", "outcome": "Outcome", "no_checks": "Not checked yet",
        "link_state": "Filter by state", "past_version": "Past version", "when": "When", "what": "What", "retired": "Retired", "not_in_config": "Not in config (kept, not run)",
        "not_found": "Not found", "bad_request": "Bad request", "unavailable": "The database is unavailable",
        "not_allowed": "Not allowed (this server is read-only)", "unauthorized": "Authentication required", "back": "Back to the overview",
        "bad_date": "{value} is not a date (use YYYY-MM-DD)", "bad_page": "{value} is not a page number (a whole number from 1)",
        "bad_kind": "There is no kind {value}", "bad_state": "There is no state {value}", "bad_param": "Bad parameter {name}={value}",
        "no_source": "There is no list {value}", "no_measure": "There is no measure {value}", "no_link": "There is no link {value}",
        "repairs": "Write instead", "repairs_note": "Each answered with a healthy page when it was checked (best first)",
        "checked_ok": "checked", "snapshot_link": "see the stored copy", "no_snapshot": "There is no stored copy of link {value}",
        "snapshot_title": "Stored copy", "snapshot_note": "The text of this URL's page as last stored (not the page as it is now).",
        "no_event": "There is no change {value}", "no_page": "There is no page {value}", "range": "The start date is after the end date",
        "ending": "Ending soon", "ending_within": "Measures ending within {days} days", "ending_intro": "Measures listed now whose end date, as read from their cells, falls between {first} and {last}.",
        "days": "Days", "subscribe": "Subscribe in a calendar (iCalendar)",
        "bad_days": "{value} is not a number of days (a whole number from 1 to {most})",
        "calendar_title": "Measures ending", "calendar_source_title": "{title}: measures ending", "calendar_event": "Ends: {name}",
        "compare": "Compare two dates", "compare_between": "The list at the end of {first} against the list at the end of {last}",
        "compare_needs_dates": "Give the two dates to compare as from and to (YYYY-MM-DD)",
        "not_monitored_yet": "This date is before monitoring began (first fetched on {since}).", "api_guide": "Using the JSON API",
        "api_intro": "Everything these pages show can be read as JSON too (read-only, with the same authentication). Every parameter and response shape is in the OpenAPI document:",
        "api_endpoint": "Endpoint (example)", "api_example": "Example", "api_also": "Also:",
        "api_sources": "Watched lists and their last run", "api_source": "A list in published order; as_of: as it stood at the end of that day", "api_compare": "What differs between the list on two days (added, ended, changed, renamed)",
        "api_changes": "Changes, newest first; filter by source, kind, from, to; page through with page", "api_measure": "A measure: every version, its links and changes",
        "api_search": "Search every list, current and past versions", "api_ending": "Measures ending within days days", "api_links": "Links, by state",
        "api_link": "A link's state and check history", "api_repairs": "What to write instead of a dead or moved link (checked, best first)", "api_event": "One change (a feed entry's id)",
        "before_monitoring": "This date is before monitoring began ({since}): nothing was recorded then, so the list first fetched stands for it.",
        "renamed_to": "{old} → {new}", "moved_to": "Moved to {url}",
        "feed_title": "Changes to measure lists", "feed_source_title": "Changes to {title}",
        "moved": "Moved to",
        "search": "Search", "search_hint": "Names, summaries, departments, phones and URLs in every list, current and past versions (words separated by spaces must all be found).",
        "renamed_there": "renamed there from “{old}”", "also_ended": "no longer listed there",
        "search_results": "Results for “{q}”", "no_hits": "Nothing found", "hit_current": "Current", "hit_ended": "Ended on {date}",
        "hit_superseded": "Until {date} (earlier version)", "download": "Download",
        "bad_query": "The query is too long (at most {most} characters, {terms} words)", "bad_limit": "{value} is not a number of results (a whole number from 1 to {most})",
    },
}

_STATUSES = {
    "ja": {"baseline": "初回取得", "changed": "変更あり", "unchanged": "変更なし", "not_modified": "変更なし (304)", "failed": "取得失敗", "suspect": "要確認"},
    "en": {"baseline": "Baseline", "changed": "Changed", "unchanged": "Unchanged", "not_modified": "Not modified", "failed": "Failed", "suspect": "Suspect"},
}

_LINK_STATES = {
    "ja": {"dead": "リンク切れ", "failing": "失敗中", "ok": "正常", "unchecked": "未確認"},
    "en": {"dead": "Dead", "failing": "Failing", "ok": "OK", "unchecked": "Not checked"},
}


class Labels:
    """The labels of one language: ``t.site``, ``t.kind_label('added')``, ``t.format('count', n=3)``."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._ui: Mapping[str, str] = MappingProxyType({**labels.words(language), **_UI[language]})

    def __getattr__(self, key: str) -> str:
        try:
            return self._ui[key]
        except KeyError:
            raise AttributeError(key) from None

    def format(self, key: str, **values: object) -> str:
        return self._ui[key].format(**values)

    def kind_label(self, kind: str) -> str:
        return labels.kind_label(kind, self.language)

    def status_label(self, status: str | None) -> str:
        return _STATUSES[self.language].get(status or "", status or "–")

    def state_label(self, state: str) -> str:
        return _LINK_STATES[self.language].get(state, state)

    def outcome_label(self, outcome: str | None) -> str:
        return labels.outcome_label(outcome, self.language) if outcome else "–"

    def message(self, text: str | None) -> str:
        """A stored English error line (a list's, a check's) in this language."""
        return localized(text, self.language)


def labels_for(language: Language) -> Labels:
    return Labels(language)
