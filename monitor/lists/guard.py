"""Guard against false alarms: is a parsed list trustworthy enough to move the baseline? (pure)

A list that lost its columns, came back empty or lost most of its rows is far more often a
broken page or a half-published file than a government ending half its measures overnight;
a list that suddenly holds many times its rows is more often junk appended to it (or a page
that is not the list) than that many new measures. Either is ``suspect``: reported, kept, and
never turned into a wave of ``ended`` or ``added`` that the next good version would undo.
"""

from __future__ import annotations

from monitor.config import GuardSettings, SourceConfig
from monitor.lists.records import ParsedList

__all__ = ["judge_list"]


def judge_list(parsed: ParsedList, source: SourceConfig, guard: GuardSettings, previous_count: int | None) -> str | None:
    """None when the list may move the baseline, else one line saying why not."""
    # The parser's own words first: a scan with no text has no header either, and "column
    # missing" would hide why.
    if parsed.errors:
        more = f" (and {len(parsed.errors) - 1} more)" if len(parsed.errors) > 1 else ""
        return parsed.errors[0] + more
    missing = [column for column in sorted(source.columns) if column not in parsed.columns]
    if missing:
        # A rename keeping most values was read as the old column already (column_renames.py).
        return (f"column {missing[0]!r} is missing; the header is now: {', '.join(parsed.columns)[:200]} "
                f"(if it was renamed, set column_aliases: {{<new header>: {missing[0]!r}}})")
    count = len(parsed.records)
    if count < guard.min_records:
        return f"{count} rows under the header (at least {guard.min_records} expected)"
    if previous_count:
        return _lost_too_many(count, previous_count, source, guard) or _grew_too_much(count, previous_count, source, guard)
    return None


def _lost_too_many(count: int, previous: int, source: SourceConfig, guard: GuardSettings) -> str | None:
    share = source.max_loss_share if source.max_loss_share is not None else guard.max_loss_share
    if count < previous * (1 - share):
        return f"{count} rows where the last good version had {previous}: more than {share:.0%} lost at once (guard.max_loss_share)"
    return None


def _grew_too_much(count: int, previous: int, source: SourceConfig, guard: GuardSettings) -> str | None:
    """A small list may gain a few rows (3 becoming 8 is an ordinary new edition): growth counts
    only from ``min_growth_rows`` new rows on."""
    share = source.max_growth_share if source.max_growth_share is not None else guard.max_growth_share
    if count > previous * (1 + share) and count - previous >= guard.min_growth_rows:
        return (f"{count} rows where the last good version had {previous}: more than {share:.0%} added at once "
                f"(guard.max_growth_share)")
    return None
