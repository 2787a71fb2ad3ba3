"""What an on-call message says: one page, one notice (acknowledged, reassigned,
resolved), or several steps listed in one message. Every page to a person carries a
signed link, valid for a day by default, that opens the alert and acknowledges it with
one click; the token names the alert and the person, nothing else.

Message ids are stable (the alert event's id, or a digest of the events listed), so a
message sent again after a crash carries the same e-mail Message-ID and webhook event
id, and a receiver can drop the second copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftercare import tokens
from aftercare.channels import Message
from aftercare_sla.domain.alert_events import (
    AlertAcknowledged,
    AlertEscalated,
    AlertEvent,
    AlertReassigned,
    AlertRenotified,
    AlertResolved,
    AlertTriggered,
    AlertUrgencyRaised,
)
from aftercare_sla.domain.alerting import OnCallAlert
from aftercare_sla.domain.escalation import OnCallPolicy

CHAT_KINDS = ("dingtalk", "feishu", "wecom", "slack")
Step = tuple[OnCallAlert, AlertEvent, str]
"""An alert as it was at the event (or as it is now, for a held event), the event, and
the event's id."""
LISTED = 20
"""Alerts named in one grouped message; the rest are counted, with where to see them all."""


@dataclass(frozen=True)
class AckLinks:
    secret: str
    base_url: str
    valid_for: timedelta = timedelta(hours=24)

    def link(self, alert_id: str, person: str, now: datetime) -> str:
        token = tokens.sign(self.secret, {"a": alert_id, "p": person}, now + self.valid_for)
        return f"{self.base_url.rstrip('/')}/alerts/ack/{token}"

    def claims(self, token: str, now: datetime) -> tuple[str, str]:
        """(alert id, person) of a link this watcher issued, or ``TokenRefused``."""
        found = tokens.verify(self.secret, token, now)
        alert_id, person = found.get("a"), found.get("p")
        if not isinstance(alert_id, str) or not isinstance(person, str):
            raise tokens.TokenRefused("not a token")
        return alert_id, person


def person_name(oncall: OnCallPolicy, person: str | None) -> str:
    """A person's name from the policy; the id when the policy has no such person."""
    who = oncall.people.get(person or "")
    return who.name if who else (person or "-")


def said(event: AlertEvent, name: Callable[[str], str]) -> str:
    """An alert event in the words an engineer would use: in the messages and on the
    acknowledgement page alike."""
    if isinstance(event, AlertTriggered):
        return f"triggered ({event.urgency})"
    if isinstance(event, AlertUrgencyRaised):
        return f"now a {event.urgency}: the chain starts again"
    if isinstance(event, AlertEscalated):
        whom = ", ".join(name(p) for p in event.people) or "nobody on call"
        where = " and the group's channels" if event.channels else ""
        return f"level {event.level + 1}, round {event.round + 1}: paged {whom}{where}"
    if isinstance(event, AlertRenotified):
        return f"reminded {', '.join(name(p) for p in event.people)}"
    if isinstance(event, AlertAcknowledged):
        return f"acknowledged by {name(event.by)}"
    if isinstance(event, AlertReassigned):
        return f"reassigned to {name(event.to)} by {name(event.by)}"
    if isinstance(event, AlertResolved):
        return f"resolved ({event.resolution})"
    return event.event_type


def people_paged(event: AlertEvent) -> tuple[str, ...]:
    return tuple(event.people) if isinstance(event, AlertEscalated | AlertRenotified) else ()


class PageMessages:
    def __init__(self, oncall: OnCallPolicy, links: AckLinks, ticket_url: str) -> None:
        self.oncall = oncall
        self.links = links
        self.ticket_url = ticket_url.rstrip("/")

    def single(self, step: Step, people: Sequence[str]) -> Message:
        """One step alone: a page to ``people`` (the person mailed, or everyone the step
        reached, for a group's channel), or a notice."""
        alert, event, event_id = step
        if isinstance(event, AlertEscalated | AlertRenotified):
            return self.page(alert, event, event_id, people)
        return self.notice(alert, event, event_id)

    def page(
        self, alert: OnCallAlert, event: AlertEvent, event_id: str, people: Sequence[str]
    ) -> Message:
        tag = "SLA BREACHED" if alert.urgency == "breach" else "SLA warning"
        again = " (reminder)" if isinstance(event, AlertRenotified) else ""
        subject = f"[{tag}] {alert.rule}: ticket {alert.ticket_id}{again}"
        lines = [
            f"Rule: {alert.rule}, cycle {alert.cycle}",
            f"Ticket: {self.ticket_url}/tickets/{alert.ticket_id}",
            f"Paged: {', '.join(self.name(p) for p in people) or '-'}",
        ]
        if isinstance(event, AlertEscalated):
            lines.append(f"Level {event.level + 1}, round {event.round + 1}")
        at = event.occurred_at
        lines += [
            f"Acknowledge ({self.name(p)}): {self.links.link(alert.alert_id, p, at)}"
            for p in people
        ]
        suffix = people[0] if len(people) == 1 else ""
        return Message(
            id=f"{event_id}{'-' + suffix if suffix else ''}",
            subject=subject,
            text="\n".join(lines) + "\n",
            document=self._document(alert, event, people),
            mentions=self.mentions(people),
        )

    def notice(self, alert: OnCallAlert, event: AlertEvent, event_id: str) -> Message:
        subject = f"[SLA {self._what(event)}] {alert.rule}: ticket {alert.ticket_id}"
        text = f"{subject}\nTicket: {self.ticket_url}/tickets/{alert.ticket_id}\n"
        return Message(event_id, subject, text, self._document(alert, event, []))

    def grouped(
        self, steps: Sequence[Step], whom: str, *, held: bool = False, mention: bool = True
    ) -> Message:
        """Several steps in one message; ``held``: events kept back by the page limit,
        listed with their alerts as they stand now."""
        breached = sum(1 for alert, _, _ in steps if alert.urgency == "breach")
        tag = "SLA BREACHED" if breached else "SLA warning"
        what = "held back by the page limit" if held else f"({breached} breached)"
        subject = f"[{tag}] {len(steps)} alerts {whom} {what}"
        lines = [self._line(step, held) for step in steps[:LISTED]]
        if len(steps) > LISTED:
            lines.append(f"… and {len(steps) - LISTED} more: GET /alerts?state=open")
        people = sorted({p for _, e, _ in steps for p in people_paged(e)})
        digest = hashlib.sha256("".join(i for _, _, i in steps).encode()).hexdigest()[:24]
        return Message(
            id=f"{'held' if held else 'pages'}-{digest}-{whom}",
            subject=subject,
            text="\n".join(lines) + "\n",
            document={
                "type": "oncall.held" if held else "oncall.pages",
                "alerts": [a.alert_id for a, _, _ in steps],
                "events": [i for _, _, i in steps],
                "people": people,
                "breached": breached,
            },
            mentions=self.mentions(people) if mention else {},
        )

    def _line(self, step: Step, held: bool) -> str:
        alert, event, _ = step
        head = f"{alert.urgency.upper()} {alert.rule} ticket {alert.ticket_id}"
        where = f"{self.ticket_url}/tickets/{alert.ticket_id}"
        if held:
            head += f" ({alert.state})"
        people = people_paged(event)
        if not people and not isinstance(event, AlertEscalated | AlertRenotified):
            return f"{head} — {self._what(event)} — {where}"
        links = ", ".join(
            f"{self.name(p)}: {self.links.link(alert.alert_id, p, event.occurred_at)}"
            for p in people
        )
        return f"{head} — {where} — acknowledge {links or '-'}"

    def _what(self, event: AlertEvent) -> str:
        return said(event, self.name)

    def _document(
        self, alert: OnCallAlert, event: AlertEvent, people: Sequence[str]
    ) -> dict[str, object]:
        return {
            "type": f"oncall.{event.event_type}",
            "alert_id": alert.alert_id,
            "ticket_id": alert.ticket_id,
            "rule": alert.rule,
            "cycle": alert.cycle,
            "group": alert.group,
            "urgency": alert.urgency,
            "state": alert.state,
            "people": list(people),
            "event": event.model_dump(mode="json"),
        }

    def mentions(self, people: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for person in people:
            who = self.oncall.people.get(person)
            for kind in CHAT_KINDS:
                handle = getattr(who, kind, None) if who else None
                if handle:
                    found.setdefault(kind, []).append(handle)
        return found

    def name(self, person: str) -> str:
        return person_name(self.oncall, person)
