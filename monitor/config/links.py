"""The ``links:`` section of config.yaml: how links are checked, judged and rechecked.

Typed and strict like the rest of the configuration (an unknown key is a one-line error when
the file loads). ``http.allow_private_addresses`` and ``http.user_agent`` are not repeated
here: one switch decides what the daemon may reach, whatever it fetches.
"""

from __future__ import annotations

from datetime import timedelta
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LinkSettings"]


class LinkSettings(BaseModel):
    """Politeness, time limits, the dead rule and recheck intervals of the link checker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    concurrency: int = Field(32, ge=1, le=1024)
    per_host: int = Field(2, ge=1, le=64)
    per_host_interval_s: float = Field(1.0, ge=0)
    connect_timeout_s: float = Field(10.0, gt=0)
    read_timeout_s: float = Field(20.0, gt=0)
    deadline_s: float = Field(45.0, gt=0)
    budget_s: float = Field(600.0, gt=0)
    max_redirects: int = Field(10, ge=0, le=50)
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    retries: int = Field(2, ge=0, le=10)
    backoff_s: float = Field(2.0, ge=0)
    retry_after_cap_s: float = Field(120.0, ge=0)
    sibling_probe: bool = True
    verify_tls: bool = True
    dead_after: int = Field(2, ge=1)
    dead_min_hours: float = Field(12.0, ge=0)
    outage_min_hosts: int = Field(5, ge=1)
    """A run whose network-level failures span this many hosts (and ``outage_share`` of them) is our outage."""
    outage_share: float = Field(0.8, gt=0, le=1)
    canary_url: str | None = None
    """Checked when a run has network-level failures; if it fails that way too, the run is our outage."""
    recheck_healthy_h: float = Field(24.0, gt=0)
    recheck_failing_h: float = Field(2.0, gt=0)
    recheck_dead_h: float = Field(6.0, gt=0)
    snapshot_pages: bool = True
    batch_size: int = Field(50, ge=1, le=10_000)
    keep_checks_days: int = Field(90, ge=1)
    """Past this many days a link keeps one check a day and every change of outcome (store.compaction)."""
    successor_hosts: dict[str, str] = Field(default_factory=lambda: {"metro.tokyo.jp": "metro.tokyo.lg.jp"})
    """Host suffix → the suffix that replaced it: a dead link's repair candidate (monitor.links.repair)."""
    repair_max_links: int = Field(100, ge=0)
    """At most this many dead or moved links get repair candidates checked per run (0: none)."""
    repair_budget_s: float = Field(30.0, gt=0)
    """Wall time for checking repair candidates live in one run."""

    @property
    def recheck_healthy(self) -> timedelta:
        return timedelta(hours=self.recheck_healthy_h)

    @property
    def recheck_failing(self) -> timedelta:
        return timedelta(hours=self.recheck_failing_h)

    @property
    def recheck_dead(self) -> timedelta:
        return timedelta(hours=self.recheck_dead_h)
