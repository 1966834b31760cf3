"""Text from a list, made inert for a person's screen: the terminal, a plain-text digest, a mail.

A cell may hold any character. Printed raw, ESC starts a terminal control sequence (colours,
a cursor that rewrites earlier lines, a window title), BEL rings, CR overwrites the line and
NUL cuts some viewers short. :func:`visible` keeps line breaks and tabs and shows every other
control character as its escape (``\\x1b``), so what the list says is seen, never obeyed.
"""

from __future__ import annotations

import re

__all__ = ["visible"]

# C0 but newline and tab, DEL, and C1 (0x9b alone is a CSI on some terminals).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape(found: re.Match[str]) -> str:
    return f"\\x{ord(found.group()):02x}"


def visible(text: str) -> str:
    """``text`` with its control characters (but ``\\n`` and ``\\t``) written as ``\\xNN``."""
    return _CONTROL.sub(_escape, text)
