"""The flow of a ticket (F-1…F-8) as one transition table: the single place that knows
which command is allowed in which state, for which kind of case.

Each kind has its own path through the table (F-11; W §保修流程, §退换货流程, §退款流程,
§投诉处理): a support or repair case is diagnosed before it is resolved; a return,
exchange, refund, complaint, spare-part order or training request is resolved from
its handling without a diagnosis it does not have. An entry without kinds is for all.

The ``transitions`` machines (one per kind, built from the one table) are used as pure
tables (no model, no auto transitions): asked, never mutated. A waiting state returns
to the state it left, so the machine lists every state it may return to and the
ticket's remembered state picks one.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from transitions import Machine

from aftercare_ticket.domain.vocabulary import Kind, State

S = State
K = Kind
ACTIVE: Final = (S.RAISED, S.ACKNOWLEDGED, S.DIAGNOSED)
WORKING: Final = (S.ACKNOWLEDGED, S.DIAGNOSED)
WAITING: Final = (S.WAITING_ON_CUSTOMER, S.WAITING_ON_PARTS)
OPEN: Final = (*ACTIVE, *WAITING, S.RESOLVED)

DIAGNOSED_FIRST: Final = frozenset({K.SUPPORT, K.REPAIR, K.EMERGENCY})
"""Kinds whose resolution rests on a diagnosis (F-3 before F-5)."""
HANDLED_DIRECTLY: Final = frozenset(Kind) - DIAGNOSED_FIRST
"""Kinds resolved from their handling: the refund paid, the replacement shipped, the
complaint answered, the parts supplied, the training given."""
SHIPPED: Final = frozenset({K.RETURN, K.EXCHANGE, K.REPAIR})
"""Kinds whose product travels to the service centre (and, for repairs, back)."""
ALL: Final = frozenset(Kind)

Destination = State | tuple[State, ...] | None
# (command, sources, destination, kinds); destination ``None``: the state stays.
_TABLE: Final[list[tuple[str, tuple[State, ...], Destination, frozenset[Kind]]]] = [
    ("raise", (S.NEW,), S.RAISED, ALL),
    ("acknowledge", (S.RAISED,), S.ACKNOWLEDGED, ALL),  # F-1, F-2
    ("revise_plan", (*WORKING, *WAITING), None, ALL),  # F-12, B-COMPLAINT-GRADE
    ("diagnose", WORKING, S.DIAGNOSED, ALL - {K.REFUND, K.TRAINING}),  # F-3 (refinable)
    ("answer_quote", (S.DIAGNOSED,), None, frozenset({K.REPAIR})),  # B-PAID-REPAIR-CONSENT
    ("provide_workaround", WORKING, None, ALL),  # F-4
    ("approve_refund", (S.ACKNOWLEDGED,), None, frozenset({K.REFUND})),  # T-REFUND
    ("give_return_instructions", WORKING, None, SHIPPED),  # T-RETURN-REVIEW
    ("receive_product", (*ACTIVE, *WAITING), None, SHIPPED),  # T-RETURN-REFUND, -SHIP
    ("resolve", (S.DIAGNOSED,), S.RESOLVED, DIAGNOSED_FIRST),  # F-5
    ("resolve", WORKING, S.RESOLVED, HANDLED_DIRECTLY),  # F-5
    ("return_product", (S.RESOLVED,), None, frozenset({K.REPAIR})),  # T-REPAIR-NOTIFY
    ("revisit", (S.RESOLVED,), None, ALL),  # F-6; closes or reopens right after
    ("revisit", (S.CLOSED,), None, ALL),  # F-13: follow-up after closing, stays closed
    ("close", (S.RESOLVED,), S.CLOSED, ALL - {K.COMPLAINT}),  # a complaint closes at revisit
    ("reopen", (S.RESOLVED, S.CLOSED), S.ACKNOWLEDGED, ALL),  # F-7: re-assess
    ("withdraw", (*ACTIVE, *WAITING), S.WITHDRAWN, ALL),
    ("decline", (*ACTIVE, *WAITING), S.DECLINED, ALL),  # B-COMPLAINT-RECORD: by kind
    ("request_info", WORKING, S.WAITING_ON_CUSTOMER, ALL),
    ("provide_info", ACTIVE, None, ALL),  # unasked-for information
    ("provide_info", (S.WAITING_ON_CUSTOMER,), WORKING, ALL),  # back to where it was
    ("await_parts", WORKING, S.WAITING_ON_PARTS, ALL),
    ("parts_arrived", (S.WAITING_ON_PARTS,), WORKING, ALL),
    ("escalate", OPEN, None, ALL),  # F-8, B-COMPLAINT-GRADE, B-DISPUTE
    ("escalate", (S.CLOSED,), None, ALL),  # F-13, B-DISPUTE: a dispute after closing
    ("assign", OPEN, None, ALL),
    # T-PROGRESS, T-REPAIR-NOTIFY: telling the customer is recorded, the news that the
    # case ended included (a decline is answered with its rule, B-COMPLAINT-RECORD).
    (
        "report_progress",
        (*ACTIVE, *WAITING, S.RESOLVED, S.CLOSED, S.WITHDRAWN, S.DECLINED),
        None,
        ALL,
    ),
    ("schedule_visit", (*WORKING, S.WAITING_ON_PARTS), None, DIAGNOSED_FIRST),  # T-ONSITE
]


def _build(kind: Kind) -> Machine:
    machine = Machine(
        model=None,
        states=[state.value for state in State],
        initial=None,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )
    for command, sources, destination, kinds in _TABLE:
        if kind not in kinds:
            continue
        targets = (destination,) if isinstance(destination, State) else destination
        for source in sources:
            for target in targets or (source,):
                machine.add_transition(command, source.value, target.value)
    return machine


_MACHINES: Final = {kind: _build(kind) for kind in Kind}
COMMANDS: Final[tuple[str, ...]] = tuple(dict.fromkeys(command for command, *_ in _TABLE))


def destinations(command: str, state: State, kind: Kind) -> list[State]:
    """Where ``command`` may take a ``kind`` ticket in ``state``; empty: not allowed."""
    return [
        State(str(transition.dest))
        for transition in _MACHINES[kind].get_transitions(trigger=command, source=state.value)
    ]


def allowed_commands(state: State, kind: Kind) -> list[str]:
    """Commands a ``kind`` ticket in ``state`` accepts, in the table's order."""
    return list(_allowed(state, kind))


@cache
def _allowed(state: State, kind: Kind) -> tuple[str, ...]:
    """The machines are fixed when the module loads: each answer is worked out once
    (every response and every list row states it)."""
    triggers = set(_MACHINES[kind].get_triggers(state.value))
    return tuple(command for command in COMMANDS if command in triggers and command != "raise")


def paths() -> dict[Kind, dict[State, list[str]]]:
    """Every kind's commands by state: the flow tables of the README."""
    return {
        kind: {state: allowed_commands(state, kind) for state in State if state is not S.NEW}
        for kind in Kind
    }
