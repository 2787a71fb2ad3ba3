"""The flow of a ticket (F-1…F-8) as one transition table: the single place that knows
which command is allowed in which state.

The ``transitions`` machine is used as a pure table (no model, no auto transitions):
it is asked, never mutated. A waiting state returns to the state it left, so the
machine lists every state it may return to and the ticket's remembered state picks one.
"""

from __future__ import annotations

from typing import Final

from transitions import Machine

from aftercare_ticket.domain.vocabulary import State

S = State
ACTIVE: Final = (S.RAISED, S.ACKNOWLEDGED, S.DIAGNOSED)
WORKING: Final = (S.ACKNOWLEDGED, S.DIAGNOSED)
WAITING: Final = (S.WAITING_ON_CUSTOMER, S.WAITING_ON_PARTS)
OPEN: Final = (*ACTIVE, *WAITING, S.RESOLVED)

# (command, sources, destination); ``None`` as destination: the command keeps the state.
_TABLE: Final[list[tuple[str, tuple[State, ...], State | tuple[State, ...] | None]]] = [
    ("raise", (S.NEW,), S.RAISED),
    ("acknowledge", (S.RAISED,), S.ACKNOWLEDGED),  # F-1, F-2
    ("diagnose", WORKING, S.DIAGNOSED),  # F-3 (a diagnosis may be refined)
    ("provide_workaround", WORKING, None),  # F-4
    ("resolve", (S.DIAGNOSED,), S.RESOLVED),  # F-5
    ("revisit", (S.RESOLVED,), None),  # F-6; closes or reopens right after
    ("close", (S.RESOLVED,), S.CLOSED),
    ("reopen", (S.RESOLVED, S.CLOSED), S.ACKNOWLEDGED),  # F-7: re-assess
    ("withdraw", (*ACTIVE, *WAITING), S.WITHDRAWN),
    ("decline", (*ACTIVE, *WAITING), S.DECLINED),
    ("request_info", WORKING, S.WAITING_ON_CUSTOMER),
    ("provide_info", ACTIVE, None),  # unasked-for information
    ("provide_info", (S.WAITING_ON_CUSTOMER,), WORKING),  # back to where it was
    ("await_parts", WORKING, S.WAITING_ON_PARTS),
    ("parts_arrived", (S.WAITING_ON_PARTS,), WORKING),
    ("escalate", OPEN, None),  # F-8, B-COMPLAINT-GRADE, B-DISPUTE
    ("assign", OPEN, None),
    # T-PROGRESS, T-REPAIR-NOTIFY: telling the customer is recorded, the news that the
    # case ended included (a decline is answered with its rule, B-COMPLAINT-RECORD).
    ("report_progress", (*ACTIVE, *WAITING, S.RESOLVED, S.CLOSED, S.WITHDRAWN, S.DECLINED), None),
    ("schedule_visit", (*WORKING, S.WAITING_ON_PARTS), None),  # T-ONSITE
    ("receive_product", (*ACTIVE, *WAITING), None),  # T-RETURN-REFUND, T-EXCHANGE-SHIP
]


def _build() -> Machine:
    machine = Machine(
        model=None,
        states=[state.value for state in State],
        initial=None,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )
    for command, sources, destination in _TABLE:
        for source in sources:
            if destination is None:
                machine.add_transition(command, source.value, source.value)
            elif isinstance(destination, tuple):
                for target in destination:
                    machine.add_transition(command, source.value, target.value)
            else:
                machine.add_transition(command, source.value, destination.value)
    return machine


_MACHINE: Final = _build()
COMMANDS: Final[tuple[str, ...]] = tuple(dict.fromkeys(command for command, _, _ in _TABLE))


def destinations(command: str, state: State) -> list[State]:
    """Where ``command`` may take a ticket in ``state``; empty when it is not allowed."""
    return [
        State(str(transition.dest))
        for transition in _MACHINE.get_transitions(trigger=command, source=state.value)
    ]


def allowed_commands(state: State) -> list[str]:
    """Commands a ticket in ``state`` accepts, in the table's order."""
    triggers = set(_MACHINE.get_triggers(state.value))
    return [command for command in COMMANDS if command in triggers and command != "raise"]
