"""A cache of config.yaml's composed data, so that every process does not pay PyYAML again.

At 18,000 lists, composing config.yaml cost ~4 s of CPU in every command, worker and web view
(``bench/scale.py``). The plain data that :func:`~monitor.config.yaml_file.load_yaml` returned is
kept as JSON under ``$XDG_CACHE_HOME/sesaku-monitor/`` (``~/.cache/sesaku-monitor/``), keyed by the
sha256 of the file's exact bytes and of the reader's code (``yaml_file.py``: its limits and checks):
the strict checks (aliases, depth, duplicate keys) already passed for those bytes. A hit does not
import PyYAML (~10 ms of CPU in every command). JSON, never pickle: a cache file can hold data,
not code. Validation still runs on what it holds; a cache that cannot be read or parsed is
ignored and written again; data that JSON cannot carry unchanged (a date, a non-string key) is
not cached.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from monitor.cache_files import cache_dir, write_private

__all__ = ["cache_dir", "load_yaml_cached"]

# Part of every key: a changed reader (its limits, its checks) must not trust what an older one passed.
_READER = Path(__file__).with_name("yaml_file.py")


def load_yaml_cached(raw: bytes, where: str) -> Any:
    """``load_yaml`` of ``raw`` (UTF-8), from the cache when these exact bytes were read before."""
    # One cache file per config file (an edited file replaces its entry, so the cache never grows),
    # holding the key of the bytes it was made from.
    path = cache_dir() / f"config-{hashlib.sha256(str(Path(where).resolve()).encode()).hexdigest()[:32]}.json"
    key = hashlib.sha256(_READER.read_bytes() + raw).hexdigest()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, dict) and cached.get("sha256") == key and "data" in cached:
            return cached["data"]
    except (OSError, ValueError):
        pass  # no cache yet, or a corrupt one: read the YAML
    from monitor.config.yaml_file import load_yaml  # PyYAML, for a miss alone

    data = load_yaml(raw.decode("utf-8"), where)
    entry = _entry(key, data)
    if entry is not None:
        write_private(path, entry)
    return data


def _entry(key: str, data: Any) -> str | None:
    """The cache file's text for ``data``; None when JSON would not give it back unchanged (a date,
    bytes, a key that is not a string), as a compare of the two finds at C speed."""
    try:
        text = json.dumps({"sha256": key, "data": data}, ensure_ascii=False)
    except TypeError:
        return None
    return text if json.loads(text)["data"] == data else None
