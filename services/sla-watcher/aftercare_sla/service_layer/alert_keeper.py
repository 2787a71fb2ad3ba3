"""Keeps the on-call alerts of the paging groups that have an escalation policy.

It follows the watcher's own verdicts in the log (like the pager: paging goes on while
Kafka is away): a warning or breach triggers or raises the clock's alert, a clock met
resolves it. On every pass it resolves the open alerts whose clocks ended otherwise
(paused, cancelled, stopped late, the ticket closed), and takes the steps that have come
due, from the ``sla_alerts`` due index. Each decision is made under the alert stream's
lock from the stream itself, so a second watcher, a restart or a redelivered verdict
decides nothing twice. A clock's alert belongs to the first of its rule's paging groups
that has an escalation policy; the other groups' channels are told of warnings and
breaches as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

import structlog
from prometheus_client import Counter, Histogram

from aftercare.clock import Clock
from aftercare.eventstore import RecordedEvent
from aftercare.instants import parse_time
from aftercare_sla.adapters.alert_store import AlertSession, SqlAlertStore, decoded
from aftercare_sla.adapters.override_store import SqlOverrideStore
from aftercare_sla.domain import alerting
from aftercare_sla.domain.alert_events import (
    AlertAcknowledged,
    AlertEscalated,
    AlertEvent,
    AlertRenotified,
    AlertResolved,
)
from aftercare_sla.domain.alerting import OnCallAlert
from aftercare_sla.domain.escalation import OnCallPolicy
from aftercare_sla.domain.oncall import Schedule

log = structlog.get_logger(__name__)

_MINUTES = (60, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
TIME_TO_ACKNOWLEDGE = Histogram(
    "aftercare_oncall_time_to_acknowledge_seconds",
    "From an alert's trigger to its acknowledgement, by paging group and the level reached.",
    ["group", "level"],
    buckets=_MINUTES,
)
TIME_TO_RESOLVE = Histogram(
    "aftercare_oncall_time_to_resolve_seconds",
    "From an alert's trigger to its resolution, by paging group and how it resolved.",
    ["group", "resolution"],
    buckets=_MINUTES,
)
STEPS_TAKEN = Counter(
    "aftercare_oncall_steps",
    "Escalation steps paged, by paging group and level.",
    ["group", "level"],
)
PAGES_TO_PERSON = Counter(
    "aftercare_oncall_pages_to_person", "Pages (steps and reminders) per person.", ["person"]
)

VERDICTS = frozenset({"SlaWarning", "SlaBreached", "SlaMet"})


class AlertNotFound(LookupError):
    pass


class AlertKeeper:
    def __init__(
        self,
        store: SqlAlertStore,
        oncall: OnCallPolicy,
        groups_by_rule: Mapping[str, Sequence[str]],
        clock: Clock,
        overrides: SqlOverrideStore | None = None,
    ) -> None:
        self.overrides = overrides
        self.store = store
        self.oncall = oncall
        self.groups_by_rule = groups_by_rule
        self.clock = clock

    def escalating_group(self, rule: str) -> str | None:
        """The paging group whose chain a clock of ``rule`` climbs, if any has one."""
        groups = self.groups_by_rule.get(rule, ("oncall",))
        return next((g for g in groups if g in self.oncall.escalation), None)

    async def on_verdict(self, verdict: RecordedEvent) -> list[AlertEvent]:
        """A recorded SlaWarning, SlaBreached or SlaMet of the watcher's log."""
        data = verdict.data
        group = self.escalating_group(data["rule"])
        if verdict.type not in VERDICTS or group is None:
            return []
        key = alerting.alert_id(data["ticket_id"], data["rule"], int(data["cycle"]))
        now = self.clock.now()
        async with self.store.alert(key) as session:
            if verdict.type == "SlaMet":
                decided = alerting.on_clock_ended(session.alert, "met", now)
            else:
                clock = alerting.Clock(
                    data["ticket_id"], data["rule"], int(data["cycle"]),
                    parse_time(data.get("deadline")),
                )  # fmt: skip
                urgency: Literal["warning", "breach"] = (
                    "breach" if verdict.type == "SlaBreached" else "warning"
                )
                decided = alerting.on_verdict(session.alert, clock, urgency, group, now)
            await self._record(session, decided, now)
        return decided

    async def fire_due(self) -> int:
        """Resolve the alerts whose clocks ended, then take every step now due; returns
        how many events were recorded."""
        now = self.clock.now()
        recorded = 0
        for key, reason in await self.store.ended_clocks():
            async with self.store.alert(key) as session:
                decided = alerting.on_clock_ended(session.alert, reason, now)
                recorded += len(await self._record(session, decided, now))
        for _ in range(50):  # pages of 100; each alert taken leaves the due index
            due = await self.store.due(now)
            if not due:
                break
            recorded += await self._take_steps(due, now)
        return recorded

    async def schedules(self) -> Mapping[str, Schedule]:
        """The policy's schedules with the overrides entered over the API."""
        if self.overrides is None:
            return self.oncall.schedules
        return await self.overrides.schedules(self.oncall.schedules)

    async def _take_steps(self, due: Sequence[str], now: datetime) -> int:
        recorded = 0
        schedules = await self.schedules()
        for key in due:
            async with self.store.alert(key) as session:
                alert = session.alert
                policy = None if alert is None else self.oncall.escalation.get(alert.group)
                if alert is None or policy is None:
                    await self._record(session, [], now, force_row=True)
                    continue
                decided = alerting.due_events(alert, policy, schedules, now)
                recorded += len(await self._record(session, decided, now, force_row=True))
        return recorded

    async def read(self, key: str) -> OnCallAlert:
        alert = alerting.fold(decoded(r) for r in await self.store.history(key))
        if alert is None:
            raise AlertNotFound(key)
        return alert

    async def seconds_until_due(self) -> float | None:
        return await self.store.seconds_until_due(self.clock.now())

    async def acknowledge(
        self, key: str, by: str, via: Literal["link", "api", "chat"]
    ) -> OnCallAlert:
        now = self.clock.now()
        async with self.store.alert(key) as session:
            alert = _found(session)
            await self._record(session, alerting.acknowledge(alert, by, via, now), now)
            return _found(session)

    async def resolve(self, key: str, by: str) -> OnCallAlert:
        now = self.clock.now()
        async with self.store.alert(key) as session:
            await self._record(session, alerting.resolve(_found(session), by, now), now)
            return _found(session)

    async def reassign(self, key: str, to: str, by: str) -> OnCallAlert:
        if to not in self.oncall.people:
            raise ValueError(f"unknown person {to!r}")
        now = self.clock.now()
        async with self.store.alert(key) as session:
            await self._record(session, alerting.reassign(_found(session), to, by, now), now)
            return _found(session)

    def _levels(self, alert: OnCallAlert | None) -> int:
        policy = None if alert is None else self.oncall.escalation.get(alert.group)
        return len(policy.levels) if policy is not None else 1

    async def _record(
        self,
        session: AlertSession,
        decided: Sequence[AlertEvent],
        now: datetime,
        *,
        force_row: bool = False,
    ) -> Sequence[RecordedEvent]:
        """Append and set the next due instant. A due alert with nothing to decide (its
        group lost its policy, say) has its row moved on all the same, so the index does
        not offer it again."""
        after = session.alert
        for event in decided:
            after = alerting.apply(after, event)
        policy = None if after is None else self.oncall.escalation.get(after.group)
        due = None if after is None or policy is None else alerting.next_due(after, policy)
        if not decided:
            if force_row:
                await session.record_due(due, now)
            return []
        before = session.alert
        stored = await session.record(decided, due, now)
        for event in decided:
            log.info("on-call alert", alert=session.alert_id, change=event.event_type)
            _measure(before, event, self._levels(before))
        return stored


def _measure(before: OnCallAlert | None, event: AlertEvent, levels: int) -> None:
    """Counted by the member that decided: once per event, whatever the replicas."""
    if isinstance(event, AlertEscalated):
        STEPS_TAKEN.labels(_group_of(before), str(event.level + 1)).inc()
    if isinstance(event, AlertEscalated | AlertRenotified):
        for person in event.people:
            PAGES_TO_PERSON.labels(person).inc()
    if before is None:
        return
    waited = (event.occurred_at - before.triggered_at).total_seconds()
    if isinstance(event, AlertAcknowledged) and before.state == "triggered":
        # The level that had been paged last when someone answered (0: before any page).
        level = str((before.steps_taken - 1) % levels + 1 if before.steps_taken else 0)
        TIME_TO_ACKNOWLEDGE.labels(before.group, level).observe(waited)
    elif isinstance(event, AlertResolved):
        TIME_TO_RESOLVE.labels(before.group, event.resolution).observe(waited)


def _group_of(alert: OnCallAlert | None) -> str:
    return alert.group if alert is not None else "-"


def _found(session: AlertSession) -> OnCallAlert:
    if session.alert is None:
        raise AlertNotFound(session.alert_id)
    return session.alert
