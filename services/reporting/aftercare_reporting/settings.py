"""The reporting service's own settings, beside the shared ones."""

from __future__ import annotations

from aftercare.settings import Settings


class ReportingSettings(Settings):
    reporting_host: str = "127.0.0.1"
    reporting_port: int = 8003

    @property
    def reporting_url(self) -> str:
        return f"http://{self.reporting_host}:{self.reporting_port}"
