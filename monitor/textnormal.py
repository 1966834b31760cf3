"""The one normal form of a text that people wrote: what lists, stored names and web pages compare.

A list's cells come with full-width letters and digits, full-width spaces and line breaks
inside a name; the same name, typed again, must compare equal. Lives at the root so that
every wing (a parser, a stored message's wording, the web view's name column) compares the
same way.
"""

from __future__ import annotations

import unicodedata

__all__ = ["normalize_text"]


def normalize_text(value: str) -> str:
    """NFKC, every run of whitespace (full-width spaces and line breaks included) as one space."""
    # Same result as re.sub(r"\s+", " ", ...).strip() (str.split and re's \s agree on what is
    # whitespace), at about a third of the cost: this runs for every cell of every version.
    # NFKC leaves ASCII as it is, and isascii() is free for the phone numbers, URLs and empty
    # cells that make up half a list.
    return " ".join((value if value.isascii() else unicodedata.normalize("NFKC", value)).split())
