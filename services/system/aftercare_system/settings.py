"""The whole system's settings: the shared ones and every service's own, for the command
that runs them all. Each service still takes only its own class (this one is a subclass
of each)."""

from __future__ import annotations

from aftercare_notifier.settings import NotifierSettings
from aftercare_reporting.settings import ReportingSettings
from aftercare_sla.settings import SlaSettings
from aftercare_ticket.settings import TicketSettings


class SystemSettings(TicketSettings, SlaSettings, NotifierSettings, ReportingSettings):
    """Everything ``aftercare`` reads from the environment."""
