"""What an on-call page says and where it goes.

A step of the chain reaches its people by e-mail (their own address) and by an
@-mention in the paging group's chat robots; a step that names the group's channels
goes to all of them (webhooks and mailing lists too). An acknowledgement, a reassignment
and a resolution are said in the group's channels, so nobody keeps working on a page
that is gone. Every page to a person carries a signed link, valid for a day by default,
that opens the alert and acknowledges it with one click; the token names the alert and
the person, nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftercare import tokens
from aftercare.channels import Channel, EmailChannel, Message
from aftercare.mail import SmtpSettings
from aftercare_sla.adapters.pager import Pager
from aftercare_sla.domain.alert_events import (
    AlertAcknowledged,
    AlertEscalated,
    AlertEvent,
    AlertReassigned,
    AlertRenotified,
    AlertResolved,
)
from aftercare_sla.domain.alerting import OnCallAlert
from aftercare_sla.domain.escalation import OnCallPolicy

CHAT_KINDS = ("dingtalk", "feishu", "wecom", "slack")
Step = tuple[OnCallAlert, AlertEvent, str]
"""An alert as it was at the event, the event, and the event's id."""
PAGES = frozenset({"AlertEscalated", "AlertRenotified"})
LISTED = 20
"""Alerts named in one grouped page; the rest are counted, with where to see them all."""
DELIVERED = frozenset(
    cls.__name__
    for cls in (AlertEscalated, AlertRenotified, AlertAcknowledged, AlertReassigned, AlertResolved)
)


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


class OnCallPager:
    def __init__(
        self,
        pager: Pager,
        channels: Mapping[str, Sequence[Channel]],
        oncall: OnCallPolicy,
        smtp: SmtpSettings | None,
        links: AckLinks,
        ticket_url: str,
    ) -> None:
        self.pager = pager
        self.channels = channels
        self.oncall = oncall
        self.smtp = smtp
        self.links = links
        self.ticket_url = ticket_url.rstrip("/")

    async def deliver(self, alert: OnCallAlert, event: AlertEvent, event_id: str) -> int:
        """Send what ``event`` means; returns how many channels took it."""
        group = list(self.channels.get(alert.group, ()))
        if isinstance(event, AlertEscalated | AlertRenotified):
            people = list(event.people)
            chats = self._reached(alert.group, [event])
            sent = await self.pager.send(self._page(alert, event, event_id, people), chats)
            for person in people:
                sent += await self._mail(person, self._page(alert, event, event_id, [person]))
            return sent
        return await self.pager.send(self._notice(alert, event, event_id), group)

    async def deliver_steps(self, steps: Sequence[Step]) -> int:
        """Steps taken together (a catch-up, many clocks breaking at once): one alone is
        paged as such; several reach each person as one message listing them, each chat
        robot and each group's channels as one message too. Every step stays in the log
        and in ``GET /alerts``, whatever a message lists."""
        if len(steps) == 1:
            return await self.deliver(*steps[0])
        sent = 0
        by_person: dict[str, list[Step]] = {}
        by_group: dict[str, list[Step]] = {}
        for step in steps:
            _, event, _ = step
            for person in getattr(event, "people", ()):
                by_person.setdefault(person, []).append(step)
            by_group.setdefault(step[0].group, []).append(step)
        for person, mine in by_person.items():
            sent += await self._mail(person, self._grouped(mine, f"for {self._name(person)}"))
        for group, theirs in by_group.items():
            chats = self._reached(group, [e for _, e, _ in theirs])
            sent += await self.pager.send(self._grouped(theirs, f"for {group}"), chats)
        return sent

    def _reached(self, group: str, events: Sequence[AlertEvent]) -> list[Channel]:
        """A group's chat robots (they carry the mentions), or all of its channels when
        a step names them."""
        channels = list(self.channels.get(group, ()))
        if any(isinstance(e, AlertEscalated) and e.channels for e in events):
            return channels
        return [c for c in channels if c.kind in CHAT_KINDS]

    def _grouped(self, steps: Sequence[Step], whom: str) -> Message:
        breached = sum(1 for alert, _, _ in steps if alert.urgency == "breach")
        tag = "SLA BREACHED" if breached else "SLA warning"
        subject = f"[{tag}] {len(steps)} alerts {whom} ({breached} breached)"
        lines = []
        for alert, event, _ in steps[:LISTED]:
            people = list(getattr(event, "people", ()))
            links = ", ".join(
                f"{self._name(p)}: {self.links.link(alert.alert_id, p, event.occurred_at)}"
                for p in people
            )
            lines.append(
                f"{alert.urgency.upper()} {alert.rule} ticket {alert.ticket_id}"
                f" — {self.ticket_url}/tickets/{alert.ticket_id} — acknowledge {links or '-'}"
            )
        if len(steps) > LISTED:
            lines.append(f"… and {len(steps) - LISTED} more: GET /alerts?state=open")
        people = sorted({p for _, e, _ in steps for p in getattr(e, "people", ())})
        digest = hashlib.sha256("".join(i for _, _, i in steps).encode()).hexdigest()[:24]
        return Message(
            id=f"pages-{digest}-{whom}",
            subject=subject,
            text="\n".join(lines) + "\n",
            document={
                "type": "oncall.pages",
                "alerts": [a.alert_id for a, _, _ in steps],
                "people": people,
                "breached": breached,
            },
            mentions=self._mentions(people),
        )

    async def _mail(self, person: str, message: Message) -> int:
        who = self.oncall.people.get(person)
        if who is None or not who.email or self.smtp is None:
            return 0
        return await self.pager.send(message, [EmailChannel(self.smtp, [who.email])])

    def _page(
        self, alert: OnCallAlert, event: AlertEvent, event_id: str, people: Sequence[str]
    ) -> Message:
        tag = "SLA BREACHED" if alert.urgency == "breach" else "SLA warning"
        again = " (reminder)" if isinstance(event, AlertRenotified) else ""
        subject = f"[{tag}] {alert.rule}: ticket {alert.ticket_id}{again}"
        lines = [
            f"Rule: {alert.rule}, cycle {alert.cycle}",
            f"Ticket: {self.ticket_url}/tickets/{alert.ticket_id}",
            f"Paged: {', '.join(self._names(people)) or '-'}",
        ]
        if isinstance(event, AlertEscalated):
            lines.append(f"Level {event.level + 1}, round {event.round + 1}")
        at = event.occurred_at
        lines += [
            f"Acknowledge ({self._name(p)}): {self.links.link(alert.alert_id, p, at)}"
            for p in people
        ]
        suffix = people[0] if len(people) == 1 else ""
        return Message(
            id=f"{event_id}{'-' + suffix if suffix else ''}",
            subject=subject,
            text="\n".join(lines) + "\n",
            document=self._document(alert, event, people),
            mentions=self._mentions(people),
        )

    def _notice(self, alert: OnCallAlert, event: AlertEvent, event_id: str) -> Message:
        if isinstance(event, AlertAcknowledged):
            what = f"acknowledged by {self._name(event.by)}"
        elif isinstance(event, AlertReassigned):
            what = f"reassigned to {self._name(event.to)} by {self._name(event.by)}"
        elif isinstance(event, AlertResolved):
            what = f"resolved ({event.resolution})"
        else:
            what = event.event_type
        subject = f"[SLA {what}] {alert.rule}: ticket {alert.ticket_id}"
        text = f"{subject}\nTicket: {self.ticket_url}/tickets/{alert.ticket_id}\n"
        return Message(event_id, subject, text, self._document(alert, event, []))

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

    def _mentions(self, people: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for person in people:
            who = self.oncall.people.get(person)
            for kind in CHAT_KINDS:
                handle = getattr(who, kind, None) if who else None
                if handle:
                    found.setdefault(kind, []).append(handle)
        return found

    def _name(self, person: str) -> str:
        who = self.oncall.people.get(person)
        return who.name if who else person

    def _names(self, people: Sequence[str]) -> list[str]:
        return [self._name(p) for p in people]
