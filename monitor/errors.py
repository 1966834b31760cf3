"""The exceptions sesaku-monitor raises, as one tree.

    MonitorError                 anything this package raises on purpose
    ├── ConfigError              the configuration is wrong (a key, a value, a file)
    ├── FetchError               a document could not be fetched whole
    ├── ParseError               a document could not be read as the list it should be
    └── NotifyError              a digest could not be delivered

    store.errors.StoreError      the database refused, is locked or is out of date
                                 (store/ imports nothing from monitor/, so it is not a
                                 MonitorError; the command line catches both)

Errors of the libraries underneath (httpx, SQLAlchemy, smtplib, …) are turned into one of
these where they enter our code, with ``raise … from exc``, so that callers and the command
line catch ``MonitorError`` (and ``StoreError``) only.
"""

from __future__ import annotations

from store.errors import StoreError

__all__ = ["MonitorError", "ConfigError", "FetchError", "ParseError", "StoreError", "NotifyError"]


class MonitorError(Exception):
    """Base class: the message is one line meant for a person."""


class ConfigError(MonitorError):
    """Raised when config.yaml (or a command-line option) is missing, malformed or inconsistent."""


class FetchError(MonitorError):
    """Raised when a list could not be fetched whole: HTTP error, timeout, size cap, truncation."""


class ParseError(MonitorError):
    """Raised when fetched bytes cannot be read as a list of the configured format."""


class NotifyError(MonitorError):
    """Raised when a notifier cannot render or deliver a digest."""
