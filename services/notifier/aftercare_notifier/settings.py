"""The notifier's own settings, beside the shared ones."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from aftercare.settings import Settings
from aftercare_notifier.domain.cadence import DEFAULT_CADENCE_MINUTES


class NotifierSettings(Settings):
    # Minutes between progress updates by priority (T-PROGRESS: 30 to 60).
    notifier_cadence_minutes: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_CADENCE_MINUTES)
    )
    notifier_coalesce_seconds: float = Field(default=10.0, ge=0)
    # How long a sender holds an update it claimed; a sender that died gives it up then.
    notifier_lease_seconds: float = Field(default=120.0, ge=1)
    notifier_max_event_age_hours: float = Field(default=24.0, gt=0)
    notifier_templates: Path | None = None
    # The key the notifier uses on the ticket API (role notifier); unset: the one key of
    # role notifier in AFTERCARE_API_KEYS. An admin key is refused unless allowed.
    notifier_api_key: str | None = None
    notifier_allow_admin_key: bool = False
    # JSON: {"<customer_ref>": {"url": "...", "secret": "..."}} for customers' own systems.
    notifier_customer_webhooks: dict[str, dict[str, str]] = Field(default_factory=dict)
