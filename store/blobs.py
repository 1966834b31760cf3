"""Content-addressed raw bytes: the same document stored twice costs one row."""

from __future__ import annotations

import hashlib
import importlib
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from isal import isal_zlib
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Blob

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["blob_time", "put_blob", "put_blobs", "get_blob", "sha256_of"]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_blob(session: Session, data: bytes, now: datetime, *, digest: str | None = None) -> str:
    """Store ``data`` once under its sha256 (``digest``, where the caller has it already) and return the hash.

    Two writers may store the same new bytes at the same moment (two hosts serving one page,
    two lists with one body): the insert does nothing when the row is already there, so the
    second writer's transaction goes on instead of failing on the primary key.
    """
    digest = digest or sha256_of(data)
    # The key alone: a body stored before is not read back (35 MB for a big list).
    if session.connection().scalar(select(Blob.sha256).where(Blob.sha256 == digest)) is None:
        session.execute(_insert(session).values(**_row(digest, data, now)).on_conflict_do_nothing(index_elements=["sha256"]))
    return digest


def put_blobs(session: Session, items: Sequence[tuple[bytes, datetime]]) -> None:
    """Store many bodies (a batch of page snapshots) in two statements, each once, as ``put_blob`` would."""
    wanted = {sha256_of(data): (data, now) for data, now in reversed(items)}  # reversed: the first time wins
    if not wanted:
        return
    present = set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(list(wanted)))))
    rows = [_row(digest, data, now) for digest, (data, now) in wanted.items() if digest not in present]
    if rows:
        session.execute(_insert(session).on_conflict_do_nothing(index_elements=["sha256"]), rows)


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    """A blob's INSERT in the session's backend's own words, which have ON CONFLICT DO NOTHING."""
    # By the dialect's name: its module came with the engine, the other backend's is never loaded (PostgreSQL's: 20-30 ms of CPU).
    insert: postgresql.Insert | sqlite.Insert = importlib.import_module(f"sqlalchemy.dialects.{session.get_bind().dialect.name}").insert(Blob)
    return insert


# A list is stored on every run that changed it, while the run is timed. ISA-L writes the same
# zlib stream that zlib.decompress reads (blobs stored before, and any SQLite tool, read it
# alike): on a 33 MB list its level 2 takes 0.08 s of CPU for 9.5 MB, where zlib's fastest
# level took 0.29 s for 9.9 MB.
_LEVEL = 2


def _row(digest: str, data: bytes, now: datetime) -> dict[str, object]:
    packed = isal_zlib.compress(data, _LEVEL)
    compression, stored = ("zlib", packed) if len(packed) < len(data) else ("none", data)
    return {"sha256": digest, "size": len(data), "compression": compression, "data": stored, "created_at": now}


def blob_time(session: Session, digest: str) -> datetime | None:
    """When these bytes were first stored."""
    return session.scalar(select(Blob.created_at).where(Blob.sha256 == digest))


def get_blob(session: Session, digest: str) -> bytes | None:
    blob = session.scalar(select(Blob).where(Blob.sha256 == digest))
    if blob is None:
        return None
    return zlib.decompress(blob.data) if blob.compression == "zlib" else blob.data
