"""What a person reads of a stored line: why a fetch, a parse or a check failed, in the
reader's language (one table), and a rename shown once.

Writers keep writing one English line (``events.payload.error``, ``snapshots.error``,
``link_checks.error``): that is what logs, the CLI and old rows hold. A page or a digest shows
it through :func:`localized`, which recognises the line by the English template of its code in
``_MESSAGES`` and writes the Japanese one with the same parameters. A ``{reason}`` is itself a
message (``<url>: cannot connect: <host>: [Errno -2] …`` nests three), so it is recognised in
turn. A line no template recognises (a newer writer, an operator's own text) is shown as it is.

A ``renamed`` event holds the names normalised (``old_name``, ``new_name``: NFKC, collapsed
whitespace, as matching compares them) and, in ``fields``, the name column as published:
readers show the published change (:func:`name_column_of`) and the normalised pair only when
no column carries it (old rows, a name built from several columns).
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.events import Renamed
from monitor.labels import Language
from monitor.textnormal import normalize_text

__all__ = ["MESSAGES", "localized", "name_column_of"]

# code → (English as written, Japanese as shown). The English must stay what the writers write:
# monitor/lists/fetch.py, monitor/lists/parsers/html_table.py, monitor/lists/guard.py,
# monitor/net_failures.py and monitor/netguard.py (tests/monitor/test_messages.py runs them).
MESSAGES: dict[str, tuple[str, str]] = {
    "more": ("{reason} (and {n} more)", "{reason}（ほか {n} 件）"),
    "at_url": ("{url}: {reason}", "{url}: {reason}"),
    # the list's page or file
    "no_table": ("no <table> in the page (an error page, or the list moved?)",
                 "ページに表（<table>）がありません（エラーページか、一覧が移動した可能性があります）"),
    "no_selector": ("no element matches selector {selector}", "セレクタ {selector} に合う要素がありません"),
    "no_column_table": ("no table has a column {column}", "列 {column} を含む表がありません"),
    "column_missing": ("column {column} is missing; the header is now: {header} "
                       "(if it was renamed, set column_aliases: {{<new header>: {column}}})",
                       "列 {column} がありません。現在の見出し: {header}"
                       "（列名が変わったのなら column_aliases: {{<新しい見出し>: {column}}} を設定してください）"),
    "too_few": ("{count} rows under the header (at least {min} expected)", "見出しの下に {count} 行しかありません（{min} 行以上のはず）"),
    "lost": ("{count} rows where the last good version had {previous}: more than {share} lost at once (guard.max_loss_share)",
             "{count} 行（前回の正常な版は {previous} 行）: 一度に {share} を超える行が消えました (guard.max_loss_share)"),
    "grew": ("{count} rows where the last good version had {previous}: more than {share} added at once (guard.max_growth_share)",
             "{count} 行（前回の正常な版は {previous} 行）: 一度に {share} を超える行が増えました (guard.max_growth_share)"),
    # the way there (fetch.py)
    "no_answer": ("no complete answer within {seconds} s", "{seconds} 秒以内に応答が完了しませんでした"),
    "file_from_page": ("file:// is read only for a source's url in config.yaml, not for a URL found on a page",
                       "file:// は config.yaml の一覧の url にだけ使えます（ページ上のURLには使えません）"),
    "no_file": ("no such file", "ファイルがありません"),
    "directory": ("is a directory, not a file", "ファイルではなくディレクトリです"),
    "permission": ("permission denied", "読み取りの権限がありません"),
    "too_big": ("{size} bytes is over the {cap} byte cap (http.max_bytes)", "{size} バイトで上限 {cap} バイトを超えています (http.max_bytes)"),
    "announced_too_big": ("{size} bytes announced, over the {cap} byte cap (http.max_bytes)",
                          "{size} バイトと予告され、上限 {cap} バイトを超えています (http.max_bytes)"),
    "over_cap": ("more than {cap} bytes, over the cap (http.max_bytes)", "{cap} バイトを超え、上限を超えています (http.max_bytes)"),
    "cut_short": ("download cut short ({got} of {size} bytes)", "ダウンロードが途中で切れました（{size} バイト中 {got} バイト）"),
    "redirects": ("more than {n} redirects (http.max_redirects)", "転送が {n} 回を超えました (http.max_redirects)"),
    # net_failures.py
    "unsupported_url": ("unsupported URL: {reason}", "扱えないURLです: {reason}"),
    "timed_out": ("timed out ({kind})", "時間切れ ({kind})"),
    "cannot_connect": ("cannot connect: {reason}", "接続できません: {reason}"),
    "garbled": ("answer cut short or garbled: {reason}", "応答が途中で切れたか壊れています: {reason}"),
    "connection_lost": ("connection lost ({kind}): {reason}", "接続が切れました ({kind}): {reason}"),
    # netguard.py, and what the operating system says underneath
    "no_address": ("{host}: no address", "{host}: アドレスがありません"),
    "invalid_name": ("{host}: reserved .invalid name", "{host}: 予約された .invalid の名前です"),
    "refused_address": ("refused {host}: {why} {address}", "{host} は内部アドレス {address} のため接続しません ({why})"),
    "no_host": ("URL has no host", "URLにホスト名がありません"),
    "bad_scheme": ("unsupported scheme {scheme}", "扱えないスキーム {scheme} です"),
    "dns_unknown": ("{host}: [Errno -2] Name or service not known", "{host}: ホスト名が見つかりません（DNS で引けません）"),
    "dns_no_data": ("{host}: [Errno -5] No address associated with hostname", "{host}: ホスト名にアドレスがありません（DNS）"),
    "dns_again": ("{host}: [Errno -3] Temporary failure in name resolution", "{host}: 名前解決に一時的に失敗しました（DNS）"),
    "refused": ("Connection refused ({where})", "接続を拒否されました ({where})"),
    "refused_errno": ("[Errno 111] Connection refused", "接続を拒否されました"),
    "all_refused": ("All connection attempts failed", "どの接続も失敗しました"),
    "reset": ("[Errno 104] Connection reset by peer", "相手が接続を切断しました"),
    "certificate": ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {why}", "TLS 証明書を検証できません: {why}"),
}

_NESTED = "reason"   # a parameter that is a message itself
_URL = r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+?"


def _pattern(english: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    for literal, name in re.findall(r"((?:[^{}]|\{\{|\}\})*)(?:\{(\w+)\})?", english):
        parts.append(re.escape(literal.replace("{{", "{").replace("}}", "}")))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{_URL if name == 'url' else '.+?'})")
            seen.add(name)
    return re.compile("".join(parts), re.DOTALL)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((_pattern(english), japanese) for english, japanese in MESSAGES.values())


def localized(text: str | None, language: Language) -> str:
    """``text`` (one English line as stored) as a reader of ``language`` reads it."""
    if not text or language == "en":
        return text or ""
    for pattern, japanese in _compiled():
        found = pattern.fullmatch(text)
        if found:
            params = {name: localized(value, language) if name == _NESTED else value for name, value in found.groupdict().items()}
            return japanese.format(**params)
    return text


def name_column_of(renamed: Renamed) -> str | None:
    """The column whose stored change reads as ``old_name → new_name``, if one does."""
    old, new = normalize_text(renamed.old_name), normalize_text(renamed.new_name)
    for column, change in renamed.fields.items():
        if normalize_text(change.old) == old and normalize_text(change.new) == new:
            return column
    return None
