"""The one exception store/ raises (store/ imports nothing from monitor/, so it lives here)."""

from __future__ import annotations

__all__ = ["StoreError"]


class StoreError(Exception):
    """Raised when the database cannot be opened, is locked for too long, or needs an upgrade."""
