"""Text from a list, made inert for a person's screen: the terminal, a plain-text digest, a mail.

A cell may hold any character. Printed raw, ESC starts a terminal control sequence (colours,
a cursor that rewrites earlier lines, a window title), BEL rings, CR overwrites the line and
NUL cuts some viewers short. The bidirectional overrides and isolates (U+202A–U+202E,
U+2066–U+2069) reorder what follows them on screen, so that ``https://example.jp/\\u202efdp.exe``
reads as a PDF and a cell can turn the rest of its line around; Japanese text needs none.
:func:`visible` keeps line breaks and tabs and shows every other control character, and those,
as its escape (``\\x1b``, ``\\u202e``), so what the list says is seen, never obeyed.
"""

from __future__ import annotations

import re

__all__ = ["visible", "written_out"]

# C0 but newline and tab, DEL, C1 (0x9b alone is a CSI on some terminals), bidi controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def written_out(found: re.Match[str]) -> str:
    """The escape a matched character is shown as: ``\\xNN`` below U+0100, else ``\\uNNNN``."""
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with its control characters (but ``\\n`` and ``\\t``) written as ``\\xNN``, bidi ones as ``\\uNNNN``."""
    return _CONTROL.sub(written_out, text)
