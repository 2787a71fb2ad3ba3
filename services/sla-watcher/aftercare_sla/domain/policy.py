"""The SLA policy: one target per clock of the standards (docs/rules.md §3, T-*).

Read from YAML (``deploy/sla-policy.yaml``) and validated before the watcher starts: an
invalid policy is refused with the entry and the reason, never half-applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from aftercare_sla.domain.durations import Duration
from aftercare_sla.domain.escalation import OnCallPolicy

PauseReason = Literal["waiting_on_customer", "waiting_on_parts"]
ClockName = Literal["24x7", "working_days"]


class Selector(BaseModel):
    """Which tickets a target applies to; an absent field matches every value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: frozenset[str] | None = None
    channel: frozenset[str] | None = None
    priority: frozenset[str] | None = None
    urgent: bool | None = None
    complaint_grade: frozenset[str] | None = None
    complexity: frozenset[str] | None = None
    region: frozenset[str] | None = None

    def matches(self, facts: Mapping[str, Any]) -> bool:
        for name in ("kind", "channel", "priority", "complaint_grade", "complexity", "region"):
            allowed: frozenset[str] | None = getattr(self, name)
            if allowed is not None and facts.get(name) not in allowed:
                return False
        return self.urgent is None or bool(facts.get("urgent")) == self.urgent

    def overlaps(self, other: Selector) -> bool:
        """Some ticket could match both."""
        for name in ("kind", "channel", "priority", "complaint_grade", "complexity", "region"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None and not mine & theirs:
                return False
        return self.urgent is None or other.urgent is None or self.urgent == other.urgent


class EventRef(BaseModel):
    """``Name`` or ``Name.field``: the event, and the field that must be set (and whose
    time is used, when it is a time) for it to count."""

    model_config = ConfigDict(frozen=True)

    event: str
    field: str | None = None

    @classmethod
    def parse(cls, text: str) -> EventRef:
        event, _, field = text.partition(".")
        return cls(event=event, field=field or None)

    def __str__(self) -> str:
        return f"{self.event}.{self.field}" if self.field else self.event


def _event_refs(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [EventRef.parse(item) if isinstance(item, str) else item for item in value]
    return value


EventRefs = Annotated[tuple[EventRef, ...], BeforeValidator(_event_refs)]


class Target(BaseModel):
    """One clock: from ``start`` to the first of ``stop`` within ``budget``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Annotated[str, Field(pattern=r"^T-[A-Z0-9-]+$")]
    title: str
    when: Selector = Selector()
    start: EventRefs
    stop: EventRefs
    budget: Duration
    clock: ClockName = "24x7"
    start_from: Literal["event", "request"] = "event"
    """``request``: the clock counts from the request time, once the start event shows
    that the target applies (a complaint's grade is only known at acknowledgement)."""
    anchor: str | None = None
    """A time field of the start event the deadline is measured from (an appointment)."""
    early_tolerance: Duration | None = None
    """With ``anchor``: stopping earlier than anchor − tolerance also misses the target."""
    repeat: bool = False
    """Each stop starts the next cycle (progress updates every N minutes)."""
    warn_at: float | None = Field(default=None, gt=0, lt=1)
    pause_on: frozenset[PauseReason] | None = None
    cancel_on: tuple[str, ...] | None = None
    page: tuple[str, ...] | None = None

    @field_validator("budget")
    @classmethod
    def _positive(cls, budget: timedelta) -> timedelta:
        if budget <= timedelta(0):
            raise ValueError("budget must be positive")
        return budget

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if self.clock == "working_days" and self.budget % timedelta(days=1):
            raise ValueError("a working_days budget is a whole number of days, e.g. 3d")
        if self.anchor and self.clock != "24x7":
            raise ValueError("an anchored target runs on the 24x7 clock")
        if self.early_tolerance is not None and not self.anchor:
            raise ValueError("early_tolerance needs an anchor")
        return self


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    warn_at: float = Field(default=0.8, gt=0, lt=1)
    pause_on: frozenset[PauseReason] = frozenset({"waiting_on_customer"})
    cancel_on: tuple[str, ...] = ("Withdrawn", "Declined", "Closed")
    page: tuple[str, ...] = ("oncall",)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_canonical(item) for item in value), key=str)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


class PolicyError(ValueError):
    """The policy cannot be used; ``problems`` says which entry and why."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = list(problems)


class ResolvedTarget(BaseModel):
    """A target with the defaults filled in, as the timers use it."""

    model_config = ConfigDict(frozen=True)

    index: int
    rule: str
    title: str
    when: Selector
    start: tuple[EventRef, ...]
    stop: tuple[EventRef, ...]
    budget: timedelta
    clock: ClockName
    start_from: Literal["event", "request"]
    anchor: str | None
    early_tolerance: timedelta | None
    repeat: bool
    warn_at: float
    pause_on: frozenset[str]
    cancel_on: frozenset[str]
    page: tuple[str, ...]


class Policy(BaseModel):
    """The whole file; ``version`` is a content hash stamped on every verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: Defaults = Defaults()
    paging: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    oncall: OnCallPolicy = Field(default_factory=OnCallPolicy)
    targets: list[Target]

    @property
    def version(self) -> str:
        """The targets' version: who is paged and how (``paging``, ``oncall``) is not part
        of it, so changing a rota recomputes no clock. The same for the same targets in
        any process (sets are sorted first: their order follows string hashing, which
        differs from one process to the next)."""
        document = _canonical(self.model_dump(exclude={"paging", "oncall"}))
        canonical = orjson.dumps(document, option=orjson.OPT_SORT_KEYS, default=str)
        return hashlib.sha256(canonical).hexdigest()[:16]

    def resolved(self) -> list[ResolvedTarget]:
        d = self.defaults
        return [
            ResolvedTarget(
                index=index,
                rule=t.rule,
                title=t.title,
                when=t.when,
                start=t.start,
                stop=t.stop,
                budget=t.budget,
                clock=t.clock,
                start_from=t.start_from,
                anchor=t.anchor,
                early_tolerance=t.early_tolerance,
                repeat=t.repeat,
                warn_at=t.warn_at if t.warn_at is not None else d.warn_at,
                pause_on=frozenset(t.pause_on if t.pause_on is not None else d.pause_on),
                cancel_on=frozenset(t.cancel_on if t.cancel_on is not None else d.cancel_on),
                page=t.page if t.page is not None else d.page,
            )
            for index, t in enumerate(self.targets)
        ]

    def problems(
        self,
        event_fields: Mapping[str, Sequence[str]],
        vocabulary: Mapping[str, Collection[str]],
    ) -> list[str]:
        """What is wrong beyond the shape: unknown events, fields or values; ambiguity."""
        found: list[str] = []
        for target in self.resolved():
            where = f"targets[{target.index}] ({target.rule})"
            for name, known in vocabulary.items():
                unknown = sorted((getattr(target.when, name, None) or set()) - set(known))
                if unknown:
                    found.append(f"{where}: unknown {name} {unknown} (known: {sorted(known)})")
            for ref in (*target.start, *target.stop):
                if ref.event not in event_fields:
                    found.append(f"{where}: unknown event {ref.event!r}")
                elif ref.field and ref.field not in event_fields[ref.event]:
                    found.append(f"{where}: event {ref.event} has no field {ref.field!r}")
            for name in target.cancel_on:
                if name not in event_fields:
                    found.append(f"{where}: unknown event {name!r} in cancel_on")
            if target.anchor and not any(
                target.anchor in event_fields.get(ref.event, ()) for ref in target.start
            ):
                found.append(f"{where}: no start event has the anchor field {target.anchor!r}")
            for group in target.page:
                if self.paging and group not in self.paging:
                    found.append(f"{where}: pages unknown group {group!r}")
        targets = self.resolved()
        for i, first in enumerate(targets):
            for second in targets[i + 1 :]:
                if first.rule == second.rule and first.when.overlaps(second.when):
                    found.append(
                        f"targets[{first.index}] and targets[{second.index}] ({first.rule}) "
                        "both apply to some tickets: make their `when` selectors disjoint"
                    )
        return found
