"""The notifier's maps of ticket events and states, held against the ticket's published
contract: a renamed event or state stops the notifier at start-up instead of silently
never telling a customer."""

from __future__ import annotations

from aftercare_notifier.domain.cadence import CHANGE_TEMPLATES, PHASES, QUIET_STATES
from aftercare_ticket.contract import unknown_names


class ContractMismatch(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def contract_problems() -> list[str]:
    problems = unknown_names("notifier change updates", events=CHANGE_TEMPLATES)
    problems += unknown_names("notifier phases", events=PHASES)
    problems += unknown_names("notifier quiet states", states=QUIET_STATES)
    return problems


def check_ticket_contract() -> None:
    problems = contract_problems()
    if problems:
        raise ContractMismatch(problems)
