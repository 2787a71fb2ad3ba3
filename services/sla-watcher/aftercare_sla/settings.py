"""The SLA watcher's own settings, beside the shared ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field

from aftercare.settings import Settings


class SlaSettings(Settings):
    sla_policy: Path = Path("deploy/sla-policy.yaml")
    # JSON lists of ISO dates: the company's own days off, and extra days worked.
    sla_company_holidays: list[date] = Field(default_factory=list)
    sla_company_working_days: list[date] = Field(default_factory=list)
    # A deadline is declared breached this long after it passes, so that an event that
    # met it just in time, still on its way through the relay, is not overtaken.
    sla_grace_seconds: float = Field(default=0.25, ge=0)
    # JSON list of YAML files, each a year's published holiday schedule (调休), for a
    # year the calendar library does not know yet (see docs and deploy/calendar/).
    sla_calendar_files: list[Path] = Field(default_factory=list, max_length=20)
