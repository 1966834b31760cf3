"""Words a digest shows, in Japanese (the default) and English.

Templates never spell a label themselves: they read ``digest.labels`` (``ui`` below), so a
user's own template gets the notifier's language for free.
"""

from __future__ import annotations

from monitor.errors import ConfigError

__all__ = ["LANGUAGES", "check_language", "fact_label", "kind_label", "outcome_label", "ui_labels"]

LANGUAGES = ("ja", "en")

_KINDS: dict[str, dict[str, str]] = {
    "ja": {
        "added": "追加",
        "ended": "終了",
        "changed": "変更",
        "renamed": "名称変更",
        "expired": "期限切れ",
        "reappeared": "再掲載",
        "link_dead": "リンク切れ",
        "link_recovered": "リンク復旧",
        "link_moved": "リンク移転",
        "page_changed": "参照ページ更新",
        "source_failed": "取得失敗",
        "source_suspect": "取得内容に疑義",
        "source_recovered": "取得復旧",
        "edition_changed": "版の更新",
        "list_added": "一覧の追加",
        "list_removed": "一覧の削除",
    },
    "en": {
        "added": "Added",
        "ended": "Ended",
        "changed": "Changed",
        "renamed": "Renamed",
        "expired": "Expired",
        "reappeared": "Reappeared",
        "link_dead": "Dead links",
        "link_recovered": "Recovered links",
        "link_moved": "Moved links",
        "page_changed": "Cited pages changed",
        "source_failed": "Source failing",
        "source_suspect": "Source suspect",
        "source_recovered": "Source recovered",
        "edition_changed": "New edition",
        "list_added": "Lists added",
        "list_removed": "Lists removed",
    },
}

_FACTS: dict[str, dict[str, str]] = {
    "ja": {
        "name": "名称",
        "end_date": "終了日",
        "outcome": "状態",
        "http_status": "HTTPステータス",
        "since": "発生日時",
        "dead_since": "リンク切れ発生",
        "failed_since": "失敗開始",
        "final_url": "移転先",
        "summary": "変更箇所",
        "error": "エラー",
        "edition": "版",
    },
    "en": {
        "name": "Name",
        "end_date": "End date",
        "outcome": "State",
        "http_status": "HTTP status",
        "since": "Since",
        "dead_since": "Dead since",
        "failed_since": "Failing since",
        "final_url": "Moved to",
        "summary": "What changed",
        "error": "Error",
        "edition": "Edition",
    },
}

# Link outcomes as DESIGN.md defines them.
_OUTCOMES: dict[str, dict[str, str]] = {
    "ja": {
        "ok": "正常",
        "redirected": "転送",
        "moved_to_top": "トップページへ転送（削除の可能性）",
        "soft_404": "ページが見つからない旨の表示",
        "not_found": "ページなし",
        "gone_host": "サーバーに接続できない",
        "blocked": "アクセス拒否",
        "error": "一時的なエラー",
        "invalid": "不正なURL",
        "refused": "確認対象外のアドレス",
    },
    "en": {
        "ok": "OK",
        "redirected": "redirected",
        "moved_to_top": "redirected to the site's top page (probably removed)",
        "soft_404": "page says it does not exist",
        "not_found": "not found",
        "gone_host": "host unreachable",
        "blocked": "access denied",
        "error": "transient error",
        "invalid": "invalid URL",
        "refused": "address not checked",
    },
}

_UI: dict[str, dict[str, str]] = {
    "ja": {
        "app": "sesaku-monitor",
        "summary": "概要",
        "details": "詳細",
        "source": "一覧",
        "total": "合計",
        "count_suffix": "件",
        "item": "項目",
        "detail": "内容",
        "measures": "該当する施策",
        "other_sources": "その他（複数の一覧）",
        "all_quiet": "前回の通知以降、変更はありません。",
        "all_quiet_subject": "変更なし",
        "separator": "・",
        "generated_at": "作成日時",
        "empty": "（空欄）",
    },
    "en": {
        "app": "sesaku-monitor",
        "summary": "Summary",
        "details": "Details",
        "source": "List",
        "total": "Total",
        "count_suffix": "",
        "item": "Item",
        "detail": "Detail",
        "measures": "Measures citing it",
        "other_sources": "Other (several lists)",
        "all_quiet": "Nothing has changed since the last message.",
        "all_quiet_subject": "no changes",
        "separator": " · ",
        "generated_at": "Generated",
        "empty": "(empty)",
    },
}


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ConfigError(f"unknown notifier language {language!r} (known: {', '.join(LANGUAGES)})")
    return language


def kind_label(kind: str, language: str) -> str:
    # An event kind added to the store later is shown under its own name, not dropped.
    return _KINDS[language].get(kind, kind)


def fact_label(fact: str, language: str) -> str:
    return _FACTS[language].get(fact, fact)


def outcome_label(outcome: str, language: str) -> str:
    return _OUTCOMES[language].get(outcome, outcome)


def ui_labels(language: str) -> dict[str, str]:
    return dict(_UI[language])
