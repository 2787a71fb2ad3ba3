"""The SLA watcher's own settings, beside the shared ones."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from aftercare.settings import Settings


class SlaSettings(Settings):
    sla_policy: Path = Path("deploy/sla-policy.yaml")
    # A deadline is declared breached this long after it passes, so that an event that
    # met it just in time, still on its way through the relay, is not overtaken.
    sla_grace_seconds: float = Field(default=0.25, ge=0)
