"""Paging the on-call engineers: one alert, several channels, never a crash.

Channels: a generic JSON webhook signed with HMAC-SHA256, the DingTalk, Feishu/Lark and
WeCom group robots (F-10 names these groups for internal communication), Slack incoming
webhooks and email. Each send is retried with capped backoff; a channel that keeps
failing is logged and counted, and the others still get the alert.

The generic webhook is signed as ``aftercare.webhooks`` describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from aftercare.channels import Message

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Alert:
    """What an on-call engineer needs at a glance."""

    verdict: str  # SlaWarning | SlaBreached
    rule: str
    title: str
    ticket_id: str
    customer_ref: str | None
    priority: str | None
    deadline: str | None
    seconds: int
    """Left before the deadline (warning) or late by (breach)."""
    link: str
    event_id: str

    @property
    def breached(self) -> bool:
        return self.verdict == "SlaBreached"

    def timing(self) -> str:
        amount = _human(self.seconds)
        return f"{amount} late" if self.breached else f"{amount} left"

    def headline(self) -> str:
        tag = "SLA BREACHED" if self.breached else "SLA warning"
        return f"[{tag}] {self.rule} {self.title}: ticket {self.ticket_id}, {self.timing()}"

    def lines(self) -> list[str]:
        return [
            f"Rule: {self.rule} ({self.title})",
            f"Ticket: {self.ticket_id}",
            f"Customer: {self.customer_ref or '-'}",
            f"Priority: {self.priority or '-'}",
            f"Deadline: {self.deadline or '-'} ({self.timing()})",
            f"Open: {self.link}",
        ]

    def message(self) -> Message:
        """The alert for any channel: the event id makes a repeat the same message."""
        text = "\n".join(self.lines()) + "\n"
        return Message(self.event_id, self.headline(), text, self.document())

    def document(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "rule": self.rule,
            "title": self.title,
            "ticket_id": self.ticket_id,
            "customer_ref": self.customer_ref,
            "priority": self.priority,
            "deadline": self.deadline,
            "late_by_seconds" if self.breached else "remaining_seconds": self.seconds,
            "link": self.link,
            "event_id": self.event_id,
            "summary": self.headline(),
        }


def _human(seconds: int) -> str:
    minutes, _ = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m"]
    return " ".join(part for part in parts if part) if seconds >= 60 else f"{seconds}s"


def alert_from(event_type: str, event_id: str, data: Mapping[str, Any], ticket_url: str) -> Alert:
    seconds = (
        int(data.get("late_by_seconds", 0))
        if event_type == "SlaBreached"
        else int(data.get("remaining_seconds", 0))
    )
    return Alert(
        verdict=event_type,
        rule=str(data["rule"]),
        title=str(data.get("title", data["rule"])),
        ticket_id=str(data["ticket_id"]),
        customer_ref=data.get("customer_ref"),
        priority=data.get("priority"),
        deadline=data.get("deadline"),
        seconds=seconds,
        link=f"{ticket_url.rstrip('/')}/tickets/{data['ticket_id']}",
        event_id=event_id,
    )
