"""The watcher's maps of ticket events, held against the ticket's published contract: a
renamed event or field stops the watcher at start-up instead of silently never pausing,
stopping or selecting a clock."""

from __future__ import annotations

from aftercare_sla.domain.facts import FACTS, PAUSES, TERMINAL
from aftercare_ticket.contract import WAITING_STATES, unknown_names


class ContractMismatch(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def contract_problems() -> list[str]:
    problems = unknown_names("SLA pauses", events=PAUSES)
    problems += [
        f"SLA pauses: {reason!r} is not a waiting state"
        for reason, _ in PAUSES.values()
        if reason not in WAITING_STATES
    ]
    problems += unknown_names("SLA facts", events=FACTS, fields=FACTS)
    problems += unknown_names("SLA terminal events", events=TERMINAL)
    return problems


def check_ticket_contract() -> None:
    problems = contract_problems()
    if problems:
        raise ContractMismatch(problems)
