"""Where on-call messages go, and how many each target takes.

A step of the chain reaches its people by e-mail (their own address) and by an
@-mention in the paging group's chat robots; a step that names the group's channels
goes to all of them (webhooks and mailing lists too). An acknowledgement, a reassignment
and a resolution are said in all the group's channels, so nobody keeps working on a
page that is gone.

Each target (a person's e-mail, each channel of a group) gets one message per run of
alert events delivered together — one step alone is sent as such, several are listed —
and at most the policy's page limit in any window. A run a target has no room for is
held in ``sla_pages_held`` and sent as one message, listing the alerts as they stand
then, once the window has room. Nothing leaves the record: every step is in the log
and in ``GET /alerts`` whatever a message lists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

import structlog
from prometheus_client import Counter

from aftercare.channels import Channel, EmailChannel, Message
from aftercare.mail import SmtpSettings
from aftercare_sla.adapters.page_limit_store import SqlPageLimitStore
from aftercare_sla.adapters.page_messages import (
    CHAT_KINDS,
    AckLinks,
    PageMessages,
    Step,
    people_paged,
)
from aftercare_sla.adapters.pager import Pager
from aftercare_sla.domain.alert_events import AlertEscalated, AlertEvent, AlertRenotified
from aftercare_sla.domain.escalation import OnCallPolicy

__all__ = ["DELIVERED", "PAGES", "AckLinks", "OnCallPager", "Step"]

log = structlog.get_logger(__name__)

PAGES = frozenset({"AlertEscalated", "AlertRenotified"})
DELIVERED = PAGES | {"AlertAcknowledged", "AlertReassigned", "AlertResolved"}
HELD = Counter(
    "aftercare_oncall_messages_held",
    "Messages held back from a target by the page limit (sent later as one), by target kind.",
    ["target"],
)

LoadStep = Callable[[str, str], Awaitable[Step | None]]
"""(alert id, event id) → the step with its alert as it stands now."""


class OnCallPager:
    def __init__(
        self,
        pager: Pager,
        channels: Mapping[str, Sequence[Channel]],
        oncall: OnCallPolicy,
        smtp: SmtpSettings | None,
        links: AckLinks,
        ticket_url: str,
        *,
        limits: SqlPageLimitStore | None = None,
    ) -> None:
        self.pager = pager
        self.channels = channels
        self.oncall = oncall
        self.smtp = smtp
        self.messages = PageMessages(oncall, links, ticket_url)
        self.limits = limits
        self.holding = limits is not None
        """Whether events may be held (checked at start, then kept up to date)."""

    async def deliver_steps(self, steps: Sequence[Step], now: datetime) -> int:
        """One message per target for a run of alert events; returns how many
        channels took one."""
        reaching = self._targets(steps)
        room = await self._room(list(reaching), now)
        outgoing: dict[str, tuple[Message, Channel]] = {}
        for target, theirs in reaching.items():
            channel = self._channel(target)
            if channel is None:
                continue
            if room.get(target, 1) < 1:
                await self._hold(target, theirs, now)
                continue
            outgoing[target] = (self._message(target, theirs), channel)
        return await self._send(outgoing, now)

    async def release_held(self, now: datetime, load: LoadStep) -> int:
        """Send each target with room its held events as one message, naming each alert
        once, as it stands now."""
        if self.limits is None or not self.holding:
            return 0
        held = await self.limits.held()
        room = await self.limits.room(list(held), now)
        sent = 0
        for target, events in held.items():
            channel = self._channel(target)  # None: the target left the configuration
            if room.get(target, 0) < 1 and channel is not None:
                continue
            latest = {a: e for e, a in events}  # each alert once, with its last event
            steps = [s for a, e in latest.items() if (s := await load(a, e)) is not None]
            message = self.messages.grouped(steps, self._whom(target), held=True)
            if channel is not None and steps:
                sent += await self.pager.send(message, [channel])
            await self.limits.released(target, [e for e, _ in events], message.id, now)
        self.holding = bool(await self.limits.holding())
        return sent

    def _targets(self, steps: Sequence[Step]) -> dict[str, list[Step]]:
        """Each target and the steps of the run that reach it, in order."""
        found: dict[str, list[Step]] = {}
        for step in steps:
            alert, event, _ = step
            for person in people_paged(event):
                found.setdefault(f"person:{person}", []).append(step)
            for number, channel in enumerate(self.channels.get(alert.group, ())):
                if _reaches(channel, event):
                    found.setdefault(f"channel:{alert.group}:{number}", []).append(step)
        return found

    def _message(self, target: str, steps: Sequence[Step]) -> Message:
        kind, _, name = target.partition(":")
        if len(steps) > 1:
            return self.messages.grouped(steps, self._whom(target))
        _, event, _ = steps[0]
        people = [name] if kind == "person" else list(people_paged(event))
        return self.messages.single(steps[0], people)

    def _whom(self, target: str) -> str:
        kind, _, name = target.partition(":")
        if kind == "person":
            return f"for {self.messages.name(name)}"
        return f"for {name.rsplit(':', 1)[0]}"

    def _channel(self, target: str) -> Channel | None:
        kind, _, name = target.partition(":")
        if kind == "person":
            who = self.oncall.people.get(name)
            if who is None or not who.email or self.smtp is None:
                return None
            return EmailChannel(self.smtp, [who.email])
        group, _, number = name.rpartition(":")
        channels = self.channels.get(group, ())
        index = int(number) if number.isdigit() else len(channels)
        return channels[index] if index < len(channels) else None

    async def _room(self, targets: Sequence[str], now: datetime) -> dict[str, int]:
        return {} if self.limits is None else await self.limits.room(targets, now)

    async def _hold(self, target: str, steps: Sequence[Step], now: datetime) -> None:
        assert self.limits is not None
        await self.limits.hold(target, [(i, a.alert_id) for a, _, i in steps], now)
        self.holding = True
        HELD.labels(target.partition(":")[0]).inc()
        log.warning("on-call messages held by the page limit", target=target, held=len(steps))

    async def _send(self, outgoing: Mapping[str, tuple[Message, Channel]], now: datetime) -> int:
        sent = sum(await asyncio.gather(*(self.pager.send(m, [c]) for m, c in outgoing.values())))
        if self.limits is not None:
            await self.limits.sent({t: m.id for t, (m, _) in outgoing.items()}, now)
        return sent


def _reaches(channel: Channel, event: AlertEvent) -> bool:
    """Pages reach a group's chat robots (they carry the mentions), or all its channels
    when the step names them; notices reach all its channels."""
    if isinstance(event, AlertEscalated) and event.channels:
        return True
    if isinstance(event, AlertEscalated | AlertRenotified):
        return channel.kind in CHAT_KINDS
    return True
