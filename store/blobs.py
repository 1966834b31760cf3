"""Content-addressed raw bytes: the same document stored twice costs one row."""

from __future__ import annotations

import hashlib
import zlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Blob

__all__ = ["put_blob", "get_blob", "sha256_of"]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_blob(session: Session, data: bytes, now: datetime) -> str:
    """Store ``data`` once under its sha256 and return the hash."""
    digest = sha256_of(data)
    if session.get(Blob, digest) is None:
        packed = zlib.compress(data, 6)
        compression, stored = ("zlib", packed) if len(packed) < len(data) else ("none", data)
        session.add(Blob(sha256=digest, size=len(data), compression=compression, data=stored, created_at=now))
        session.flush()
    return digest


def get_blob(session: Session, digest: str) -> bytes | None:
    blob = session.scalar(select(Blob).where(Blob.sha256 == digest))
    if blob is None:
        return None
    return zlib.decompress(blob.data) if blob.compression == "zlib" else blob.data
