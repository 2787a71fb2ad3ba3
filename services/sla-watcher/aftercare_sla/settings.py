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
    # The on-call acknowledgement links: signed with this secret, valid this long, under
    # this address (the SLA watcher's own by default). Set your own secret in production.
    oncall_secret: str = Field(default="dev-oncall-link-secret", min_length=16)
    oncall_link_hours: int = Field(default=24, ge=1, le=24 * 14)
    oncall_public_url: str | None = None
