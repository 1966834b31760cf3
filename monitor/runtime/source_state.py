"""A stored source's state, joining the config and the store's marks of it (pure), for
``sources`` and ``status``. Kept apart from ``source_admin`` so that ``status`` need not load
the parsers and the pipeline that re-keying needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:  # `status` reads a checked file's view instead (monitor.config_view)
    from monitor.config import Config
    from monitor.config_view import ConfigView

__all__ = ["source_state", "kept_not_run"]


def source_state(source_id: str, parent_id: str | None, retired: bool, configured: dict[str, bool]) -> str:
    """A stored source's state; ``configured``: every configured id → whether it is enabled (pure)."""
    if retired:
        return "left its index" if parent_id is not None and source_id not in configured else "retired"
    owner = source_id if source_id in configured else parent_id
    if owner is None or owner not in configured:
        return "not in config"
    return "watched" if configured[owner] else "disabled"


def kept_not_run(config: Union[Config, ConfigView], marks: Iterable[tuple[str, str | None, bool]]) -> tuple[list[str], list[str]]:
    """Of the stored sources' (id, parent id, retired): the ids of the retired, and of those no longer configured."""
    configured = {source.id: source.enabled for source in config.sources}
    # A configured source that is not retired is watched or disabled: only the others are asked (18,000 at a national scale).
    states = [(source_id, source_state(source_id, parent_id, retired, configured))
              for source_id, parent_id, retired in marks if retired or source_id not in configured]
    return [i for i, state in states if state == "retired"], [i for i, state in states if state == "not in config"]
