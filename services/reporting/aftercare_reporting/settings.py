"""The reporting service's own settings, beside the shared ones."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from aftercare.settings import Settings


class ReportingSettings(Settings):
    # KPI alarms (Q §九): the trailing window, and where alarms and recoveries go.
    reporting_alarm_window_days: int = Field(default=7, ge=1, le=92)
    reporting_alarm_webhook_url: str | None = None
    reporting_alarm_webhook_secret: str = ""
    reporting_alarm_email: str | None = None
    """Comma-separated addresses (over AFTERCARE_SMTP_HOST)."""
    # Defect feedback (Wn, S A12): faults of one model, lot and cause within the window.
    quality_alert_threshold: int = Field(default=3, ge=1, le=10_000)
    quality_alert_window_days: int = Field(default=30, ge=1, le=366)
    # Q's indicator tree: the dimension weights and operator-entered values.
    indicators_file: Path | None = Path("deploy/indicators.yaml")
    # Reports (Q §七): published on the N-th working day after a quarter (at most 15) and
    # after a year (at most 30), in this language, announced to these addresses.
    reporting_quarterly_after_working_days: int = Field(default=5, ge=1, le=15)
    reporting_annual_after_working_days: int = Field(default=10, ge=1, le=30)
    reporting_report_language: Literal["zh-CN", "en"] = "zh-CN"
    reporting_report_email: str | None = None
    """Comma-separated addresses (over AFTERCARE_SMTP_HOST)."""
    report_font: Path | None = None
    """A TrueType/OpenType font with Chinese glyphs for the PDF; the packaged one if unset."""
