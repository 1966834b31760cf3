"""The cache folder of what config.yaml's readers keep between processes (``yaml_cache``'s
composed data, ``config_view``'s checked view): where it is, and how a file of it is written."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "write_private"]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sesaku-monitor"


def write_private(path: Path, text: str) -> None:
    """Written whole or not at all (a temporary file renamed); a cache that cannot be written is no error.

    Readable by its owner only: config.yaml may hold a password written in it (not as ``${VAR}``),
    and the cache must not show it to anyone the file itself does not."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError:
        return
