"""Decisions that say no, as values the edge turns into problem details."""

from __future__ import annotations


class DomainError(Exception):
    pass


class Refusal(DomainError):
    """A business rule refuses the command; ``rule`` is its ID in docs/rules.md."""

    def __init__(self, rule: str, detail: str, field: str | None = None) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail
        self.field = field


class InvalidTransition(DomainError):
    """The command is not allowed in the ticket's current state."""

    def __init__(self, command: str, state: str, allowed: list[str]) -> None:
        super().__init__(f"{command} is not allowed while the ticket is {state}")
        self.command = command
        self.state = state
        self.allowed = allowed
