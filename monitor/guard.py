"""Guard against false alarms: is a parsed list trustworthy enough to move the baseline? (pure)

A list that lost its columns, came back empty or lost most of its rows is far more often a
broken page or a half-published file than a government ending half its measures overnight,
so such a list is ``suspect``: reported, kept, and never turned into a wave of ``ended``.
"""

from __future__ import annotations

from .config import GuardSettings, SourceConfig
from .records import ParsedList

__all__ = ["judge_list"]


def judge_list(parsed: ParsedList, source: SourceConfig, guard: GuardSettings, previous_count: int | None) -> str | None:
    """None when the list may move the baseline, else one line saying why not."""
    missing = [column for column in sorted(source.columns) if column not in parsed.columns]
    if missing:
        return f"column {missing[0]!r} is missing; the header is now: {', '.join(parsed.columns)[:200]}"
    if parsed.errors:
        more = f" (and {len(parsed.errors) - 1} more)" if len(parsed.errors) > 1 else ""
        return parsed.errors[0] + more
    count = len(parsed.records)
    if count < guard.min_records:
        return f"{count} rows under the header (at least {guard.min_records} expected)"
    share = source.max_loss_share if source.max_loss_share is not None else guard.max_loss_share
    if previous_count and count < previous_count * (1 - share):
        return f"{count} rows where the last good version had {previous_count}: more than {share:.0%} lost at once (guard.max_loss_share)"
    return None
