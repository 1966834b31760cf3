"""What a cited page *says*, so that a page snapshot is compared as text, not as markup.

``page_text(body)`` is the visible text of an HTML (or plain text) page, one line per block,
whitespace collapsed; ``text_change(old, new)`` is a one-line summary of what changed, or
None when the text is the same (a new class attribute, re-indented markup, a rotated CSRF
token in a script: none of them is a change a reader of the page would notice).
"""

from __future__ import annotations

import difflib
import warnings

__all__ = ["page_text", "text_change"]

# Not text a reader sees; scripts often embed per-request tokens and timestamps.
_INVISIBLE = ("script", "style", "noscript", "template", "head")
_SUMMARY_WIDTH = 200
_SIDE_WIDTH = 80


def page_text(body: bytes) -> str:
    """The visible text of ``body``: one non-empty line per text block, spaces collapsed.

    The encoding is found the way a browser would (BOM, ``<meta charset>``, then guessing),
    since a stored snapshot keeps no Content-Type.
    """
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning  # only a page snapshot's check reads markup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)  # a short plain-text body
        soup = BeautifulSoup(body, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_INVISIBLE):
        tag.decompose()
    lines = [" ".join(line.split()) for line in soup.get_text("\n").splitlines()]
    return "\n".join(line for line in [title, *lines] if line)


def text_change(old: str, new: str) -> str | None:
    """``"募集期間: 5月 → 6月"``-like summary of the first changed lines; None if equal."""
    if old == new:
        return None
    before, after = old.splitlines(), new.splitlines()
    changes = [op for op in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes() if op[0] != "equal"]
    _, i1, i2, j1, j2 = changes[0]
    removed, added = _clip(" ".join(before[i1:i2])), _clip(" ".join(after[j1:j2]))
    summary = f"{removed} → {added}" if removed and added else (f"+ {added}" if added else f"− {removed}")
    if len(changes) > 1:
        summary += f" (and {len(changes) - 1} more change{'s' if len(changes) > 2 else ''})"
    return summary[:_SUMMARY_WIDTH]


def _clip(text: str) -> str:
    return text if len(text) <= _SIDE_WIDTH else text[: _SIDE_WIDTH - 1] + "…"
