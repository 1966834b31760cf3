"""The web view's errors: each becomes a page (or JSON under /api) with a status and a message.

    WebError            a request the view cannot answer; ``status`` and a message for people
    ├── BadRequest      400: a malformed parameter (2025-13-40, page -1, an unknown kind)
    └── NotFound        404: an id nothing in the store has
"""

from __future__ import annotations

__all__ = ["WebError", "BadRequest", "NotFound"]


class WebError(Exception):
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(WebError):
    status = 400


class NotFound(WebError):
    status = 404
