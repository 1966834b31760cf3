"""Content-addressed raw bytes: the same document stored twice costs one row."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import Blob

__all__ = ["blob_time", "put_blob", "get_blob", "sha256_of"]

# INSERT … ON CONFLICT DO NOTHING, in each backend's own words.
_INSERTS: dict[str, Callable[[type[Blob]], postgresql.Insert | sqlite.Insert]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_blob(session: Session, data: bytes, now: datetime) -> str:
    """Store ``data`` once under its sha256 and return the hash.

    Two writers may store the same new bytes at the same moment (two hosts serving one page,
    two lists with one body): the insert does nothing when the row is already there, so the
    second writer's transaction goes on instead of failing on the primary key.
    """
    digest = sha256_of(data)
    if session.get(Blob, digest) is None:
        packed = zlib.compress(data, 6)
        compression, stored = ("zlib", packed) if len(packed) < len(data) else ("none", data)
        row = {"sha256": digest, "size": len(data), "compression": compression, "data": stored, "created_at": now}
        insert = _INSERTS[session.get_bind().dialect.name]
        session.execute(insert(Blob).values(**row).on_conflict_do_nothing(index_elements=["sha256"]))
    return digest


def blob_time(session: Session, digest: str) -> datetime | None:
    """When these bytes were first stored."""
    return session.scalar(select(Blob.created_at).where(Blob.sha256 == digest))


def get_blob(session: Session, digest: str) -> bytes | None:
    blob = session.scalar(select(Blob).where(Blob.sha256 == digest))
    if blob is None:
        return None
    return zlib.decompress(blob.data) if blob.compression == "zlib" else blob.data
