"""The ticket service's own settings, beside the shared ones."""

from __future__ import annotations

from pydantic import Field

from aftercare.settings import DEV_ADMIN_KEY, Settings


class TicketSettings(Settings):
    # B-RETURN-WINDOW: days after receipt in which a no-reason return is accepted.
    return_window_days: int = Field(default=7, ge=0)
    # B-WARRANTY-PERIOD: months of warranty from the purchase date, by product model;
    # models not listed get ``warranty_months``.
    warranty_months: int = Field(default=12, ge=0)
    warranty_months_by_model: dict[str, int] = Field(default_factory=dict)
    # B-TIME-ORDER: requests and steps may be logged after the fact up to this many days.
    max_backdate_days: int = Field(default=30, ge=0, le=3650)
    # The web console: its sessions are signed with this secret (set your own, ≥ 16
    # characters), and it reads the SLA watcher's API with this key (a reader's will do).
    console_secret: str = Field(default="dev-console-session-secret", min_length=16)
    console_api_key: str | None = None

    @property
    def console_key(self) -> str | None:
        """The console's key for the watcher; the development key when no keys are set."""
        return self.console_api_key or (None if self.api_keys else DEV_ADMIN_KEY)
