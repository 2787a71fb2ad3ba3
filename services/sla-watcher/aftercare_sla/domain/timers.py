"""SLA timers as a pure function of a ticket's events and the policy.

``evaluate(targets, facts, clocks)`` replays a ticket's events (in stream order) and
returns every timer cycle with its start, pauses, deadline and outcome. Deadlines come
from the events' own times, never from when the watcher reads them, so a watcher that
was down, or a policy that changed, gives the same answer as a live one would. Verdicts
already announced are the watcher's business (it never rewrites them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aftercare.instants import parse_time as event_time
from aftercare_sla.domain.calendar import Timekeeping
from aftercare_sla.domain.facts import FACTS, PAUSES, Fact, matching, time_of
from aftercare_sla.domain.policy import ResolvedTarget
from aftercare_sla.domain.timer import Outcome, Timer


@dataclass
class _Running:
    target: ResolvedTarget
    cycle: int
    started_at: datetime
    counts_from: datetime
    """The first instant that counts: the start, or (working days) the next day's 00:00."""
    total: timedelta
    consumed: timedelta
    running_since: datetime | None
    paused_since: datetime | None
    anchor: datetime | None
    facts: dict[str, Any]


class _Evaluation:
    def __init__(
        self, targets: Sequence[ResolvedTarget], clocks: Mapping[str, Timekeeping]
    ) -> None:
        self.targets = targets
        self.clocks = clocks
        self.facts: dict[str, Any] = {}
        self.reasons: frozenset[str] = frozenset()
        self.waits: list[tuple[datetime, frozenset[str]]] = []
        """Every change of the ticket's waits, in order: a clock that starts from an
        earlier instant (the request) replays them, so waiting before it existed does not
        count either (Q §四(五): resolution is measured from the start of handling)."""
        self.running: dict[str, _Running] = {}
        self.cycles: dict[str, int] = {}
        self.finished: list[Timer] = []

    def clock(self, target: ResolvedTarget) -> Timekeeping:
        return self.clocks[target.clock]

    def feed(self, fact: Fact) -> None:
        changed = False
        for name in FACTS.get(fact.type, ()):
            if name in fact.data and self.facts.get(name) != fact.data[name]:
                self.facts[name] = fact.data[name]
                changed = True
        if self.facts.get("priority") == "urgent" and self.facts.get("urgent") is False:
            self.facts["urgent"] = True  # escalated to urgent (F-8): urgent from now on
            changed = True
        if fact.type in PAUSES:
            reason, pausing = PAUSES[fact.type]
            self.reasons = self.reasons | {reason} if pausing else self.reasons - {reason}
            self.waits.append((fact.at, self.reasons))
            for timer in self.running.values():
                self._pause_or_resume(timer, fact.at, self.reasons)
        if changed:
            self._retarget(fact.at)
        self._stop_or_cancel(fact)
        self._start_matching(fact)

    def _stop_or_cancel(self, fact: Fact) -> None:
        for rule, timer in list(self.running.items()):
            ref = matching(fact, timer.target.stop)
            if ref is not None:
                self._stop(timer, time_of(fact, ref))
                del self.running[rule]
                if timer.target.repeat and fact.type not in timer.target.cancel_on:
                    self._start_next_cycle(rule, fact.at)
            elif fact.type in timer.target.cancel_on:
                self._finish(timer, fact.at, "cancelled")
                del self.running[rule]

    def _start_matching(self, fact: Fact) -> None:
        for target in self.targets:
            ref = matching(fact, target.start)
            if ref is None:
                continue
            current = self.running.get(target.rule)
            if current is not None:
                if current.target.index == target.index and target.anchor:
                    current.anchor = event_time(fact.data.get(target.anchor))  # rescheduled
                continue
            if not target.when.matches(self.facts):
                continue
            first_cycle = target.rule not in self.cycles
            requested = event_time(self.facts.get("requested_at"))
            if target.start_from == "request" and first_cycle and requested is not None:
                started = requested  # later cycles (after a reopen) start at their event
            else:
                started = time_of(fact, ref)
            anchor = event_time(fact.data.get(target.anchor or ""))
            self._start(target, started, fact.at, anchor)

    def _retarget(self, at: datetime) -> None:
        """The ticket's facts changed (a diagnosis revised, an escalation): a running clock
        whose variant no longer fits takes the one that does, as if it had applied from the
        start (a complex diagnosis gets the complex budget); a repeating cycle instead gets
        the new budget from the change, if that comes sooner (an urgent case hears within
        30 minutes of becoming urgent, never later than it would have); a clock that no
        longer applies at all is cancelled."""
        for rule, timer in list(self.running.items()):
            if timer.target.when.matches(self.facts):
                continue
            variant = next(
                (t for t in self.targets if t.rule == rule and t.when.matches(self.facts)), None
            )
            if variant is None:
                self._finish(timer, at, "cancelled")
                del self.running[rule]
            elif not timer.target.repeat:
                self.running[rule] = self._begin(
                    variant, timer.started_at, at, timer.anchor, timer.cycle
                )
            else:
                sooner = self._begin(variant, at, at, timer.anchor, timer.cycle)
                if _deadline_of(self._state(sooner)) < _deadline_of(self._state(timer)):
                    self.running[rule] = sooner
                else:
                    timer.target = variant

    def _start_next_cycle(self, rule: str, at: datetime) -> None:
        """The next cycle of a repeating target, under whichever variant fits the ticket now."""
        for target in self.targets:
            if target.rule == rule and target.when.matches(self.facts):
                self._start(target, at, at)
                return

    def _start(
        self, target: ResolvedTarget, at: datetime, now: datetime, anchor: datetime | None = None
    ) -> None:
        cycle = self.cycles.get(target.rule, 0) + 1
        self.cycles[target.rule] = cycle
        self.running[target.rule] = self._begin(target, at, now, anchor, cycle)

    def _begin(
        self,
        target: ResolvedTarget,
        started: datetime,
        now: datetime,
        anchor: datetime | None,
        cycle: int,
    ) -> _Running:
        """A clock started at ``started``, brought up to ``now`` through the waits between."""
        clock = self.clock(target)
        counts_from = clock.counts_from(started)
        timer = _Running(
            target=target,
            cycle=cycle,
            started_at=started,
            counts_from=counts_from,
            total=clock.budget_from(started, target.budget),
            consumed=timedelta(0),
            running_since=counts_from,
            paused_since=None,
            anchor=anchor,
            facts=dict(self.facts),
        )
        earlier = [reasons for when, reasons in self.waits if when <= started]
        self._pause_or_resume(timer, started, earlier[-1] if earlier else frozenset())
        for when, reasons in self.waits:
            if started < when <= now:
                self._pause_or_resume(timer, when, reasons)
        return timer

    def _pause_or_resume(self, timer: _Running, at: datetime, reasons: frozenset[str]) -> None:
        if timer.target.anchor:
            return  # an appointment does not move
        paused = bool(reasons & timer.target.pause_on)
        if paused and timer.running_since is not None:
            timer.consumed += self.clock(timer.target).counted(timer.running_since, at)
            timer.running_since, timer.paused_since = None, at
        elif not paused and timer.running_since is None:
            # Time that would not have counted (the start day of a working-day clock) is
            # not given back: the clock resumes no earlier than it first counts.
            timer.running_since, timer.paused_since = max(at, timer.counts_from), None

    def _stop(self, timer: _Running, at: datetime) -> None:
        if timer.target.anchor and timer.anchor is not None:
            deadline = timer.anchor + timer.target.budget
            early = timer.anchor - (timer.target.early_tolerance or timedelta(0))
            self._finish(timer, at, "met" if early <= at <= deadline else "missed")
            return
        consumed = timer.consumed
        if timer.running_since is not None:
            consumed += self.clock(timer.target).counted(timer.running_since, at)
        self._finish(timer, at, "met" if consumed <= timer.total else "missed", consumed)

    def _finish(
        self,
        timer: _Running,
        at: datetime,
        outcome: Outcome,
        consumed: timedelta | None = None,
    ) -> None:
        state = self._state(timer)
        self.finished.append(
            replace(
                state,
                outcome=outcome,
                stopped_at=at,
                consumed=consumed if consumed is not None else state.consumed,
                running_since=None,
            )
        )

    def _state(self, timer: _Running) -> Timer:
        target, clock = timer.target, self.clock(timer.target)
        deadline = warn_at = early_from = None
        if target.anchor:
            if timer.anchor is not None:
                deadline = timer.anchor + target.budget
                warn_at = timer.anchor
                early_from = timer.anchor - (target.early_tolerance or timedelta(0))
        elif timer.running_since is not None:
            deadline = clock.advance(timer.running_since, timer.total - timer.consumed)
            warn_point = timer.total * target.warn_at - timer.consumed
            warn_at = clock.advance(timer.running_since, max(warn_point, timedelta(0)))
        return Timer(
            rule=target.rule,
            title=target.title,
            cycle=timer.cycle,
            clock=target.clock,
            budget=target.budget,
            started_at=timer.started_at,
            total=timer.total,
            consumed=timer.consumed,
            running_since=timer.running_since,
            paused_since=timer.paused_since,
            pause_reasons=self.reasons & target.pause_on,
            outcome="running" if timer.running_since is not None or target.anchor else "paused",
            stopped_at=None,
            deadline=deadline,
            warn_at=warn_at,
            early_from=early_from,
            facts=timer.facts,
        )

    def result(self) -> list[Timer]:
        return [*self.finished, *(self._state(timer) for timer in self.running.values())]


def _deadline_of(timer: Timer) -> datetime:
    return timer.deadline or datetime.max.replace(tzinfo=timer.started_at.tzinfo)


def evaluate(
    targets: Sequence[ResolvedTarget],
    facts: Sequence[Fact],
    clocks: Mapping[str, Timekeeping],
) -> list[Timer]:
    """Every timer cycle the ticket's events start, in the order they started."""
    evaluation = _Evaluation(targets, clocks)
    for fact in sorted(facts, key=lambda f: f.sequence):
        evaluation.feed(fact)
    return sorted(evaluation.result(), key=lambda t: (t.started_at, t.rule, t.cycle))
