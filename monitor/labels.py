"""What a person reads for an event kind or a link outcome, in Japanese and English.

One table serves the digest, the web view, the feeds and the CLI, so 「リンク切れ」 or
"soft 404" reads the same in a mail and on a page. Words that only one of them shows (the
web's buttons, the digest's headings) stay with it. An unknown value (a kind a newer
version wrote) is shown as itself rather than dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from monitor.events import Rekeyed

__all__ = ["LANGUAGES", "Language", "kind_label", "outcome_label", "rekey_facts", "repair_label", "words"]

Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = ("ja", "en")

_KINDS: dict[str, dict[str, str]] = {
    "ja": {
        "added": "追加", "ended": "終了", "changed": "変更", "renamed": "名称変更", "expired": "期限切れ", "reappeared": "再掲載",
        "links_outage": "こちら側の通信障害（リンク判定を保留）", "link_dead": "リンク切れ", "link_recovered": "リンク復旧", "link_moved": "リンク移転", "page_changed": "参照ページ更新",
        "source_failed": "取得失敗", "source_suspect": "取得内容に疑義", "source_recovered": "取得復旧",
        "edition_changed": "版の更新", "list_added": "一覧の追加", "list_removed": "一覧の削除", "column_renamed": "列名の変更", "rekeyed": "キーと名称の再計算",
    },
    "en": {
        "added": "Added", "ended": "Ended", "changed": "Changed", "renamed": "Renamed", "expired": "Expired", "reappeared": "Reappeared",
        "links_outage": "Our network outage (links not judged)", "link_dead": "Link dead", "link_recovered": "Link recovered", "link_moved": "Link moved", "page_changed": "Cited page changed",
        "source_failed": "Source failing", "source_suspect": "Source suspect", "source_recovered": "Source recovered",
        "edition_changed": "New edition", "list_added": "List added", "list_removed": "List removed", "column_renamed": "Column renamed", "rekeyed": "Keys and names recomputed",
    },
}

# Link outcomes as DESIGN.md defines them: plain words first, the technical name after.
_OUTCOMES: dict[str, dict[str, str]] = {
    "ja": {
        "ok": "正常", "redirected": "転送", "moved_to_top": "トップページへ転送（削除の可能性）",
        "soft_404": "ページが見つからない旨の表示（ソフト404）", "not_found": "ページなし (404/410)",
        "gone_host": "サーバーに接続できない", "blocked": "アクセス拒否 (401/403/429)", "error": "一時的なエラー",
        "invalid": "不正なURL", "refused": "内部アドレスのため確認せず",
    },
    "en": {
        "ok": "OK", "redirected": "Redirected", "moved_to_top": "Redirected to the site's top page (probably removed)",
        "soft_404": "Page says it does not exist (soft 404)", "not_found": "Not found (404/410)",
        "gone_host": "Host unreachable", "blocked": "Access denied (401/403/429)", "error": "Transient error",
        "invalid": "Invalid URL", "refused": "Private address, not checked",
    },
}


# Words both the web view and a digest show (a heading, a fact's label, a change's two sides):
# each spelled once here, the rest of each reader's words stay with it.
_WORDS: dict[str, dict[str, str]] = {
    "ja": {"source": "一覧", "name": "名称", "department": "担当", "end_date": "終了日", "edition": "版", "error": "エラー",
           "old": "旧", "new": "新", "empty": "（空欄）", "also_in": "他の一覧にも掲載"},
    "en": {"source": "List", "name": "Name", "department": "Department", "end_date": "End date", "edition": "Edition", "error": "Error",
           "old": "Old", "new": "New", "empty": "(empty)", "also_in": "Also in other lists"},
}


# Why a repair of a dead or moved link is suggested (monitor.links.repair.Reason).
_REPAIRS: dict[str, dict[str, str]] = {
    "ja": {"redirect": "恒久的な転送先", "successor_host": "移行後のホストの同じパス", "near_host": "よく似た稼働中のホスト名（誤記の可能性）",
           "snapshot": "最後に保存したページの写し"},
    "en": {"redirect": "its permanent redirect", "successor_host": "the same path on the successor host",
           "near_host": "a live host with a near-identical name (probably a typo)", "snapshot": "the last stored copy of the page"},
}


# The facts of a `rekeyed` event: its payload's fields, in the order they are shown.
_REKEY: dict[str, dict[str, str]] = {
    "ja": {"measures": "再計算した施策", "keys_changed": "キーが変わった施策", "names_changed": "名称が変わった施策",
           "key_columns": "キー列", "name_column": "名称列", "unpaired": "最後の取得に見つからない施策"},
    "en": {"measures": "Measures re-keyed", "keys_changed": "Keys changed", "names_changed": "Names changed",
           "key_columns": "Key columns", "name_column": "Name column", "unpaired": "Not found in the last good fetch"},
}


def rekey_facts(data: Rekeyed, language: Language) -> list[tuple[str, str]]:
    """(label, value) for each fact the event carries: how many measures were re-keyed, how many
    got a new key or name, the key and name columns they were given, and how many listed measures
    the last good snapshot, parsed with the current config, no longer pairs with (kept as they were)."""
    return [(_REKEY[language][name], str(value)) for name, value in data.to_payload().items() if value not in (None, "")]


def repair_label(reason: str, language: Language) -> str:
    return _REPAIRS[language].get(reason, reason)


def kind_label(kind: str, language: Language) -> str:
    return _KINDS[language].get(kind, kind)


def outcome_label(outcome: str, language: Language) -> str:
    return _OUTCOMES[language].get(outcome, outcome)


def words(language: Language) -> dict[str, str]:
    """The words the web view and a digest share, by key (``old``, ``department`` …)."""
    return dict(_WORDS[language])
