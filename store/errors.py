"""The exceptions store/ raises (store/ imports nothing from monitor/, so they live here).

    StoreError            the database refused, or needs an upgrade       exit code 4
    ├── DatabaseLocked    another writer kept it locked past busy_timeout_s  exit code 5
    ├── DiskFull          no space left where the database is written     exit code 6
    └── ReadOnlyDatabase  the file or its file system cannot be written   exit code 7

Each carries the exit code the command line ends with (README, "Exit codes").
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["StoreError", "DatabaseLocked", "DiskFull", "ReadOnlyDatabase"]


class StoreError(Exception):
    """Raised when the database cannot be opened, refuses a statement or needs an upgrade."""

    exit_code: ClassVar[int] = 4


class DatabaseLocked(StoreError):
    """Raised when another process held a write lock on the SQLite file for all of ``database.busy_timeout_s``."""

    exit_code = 5


class DiskFull(StoreError):
    """Raised when a write finds no space left (SQLite's "database or disk is full", PostgreSQL's ENOSPC)."""

    exit_code = 6


class ReadOnlyDatabase(StoreError):
    """Raised when the database file, its folder or its file system is read-only."""

    exit_code = 7
