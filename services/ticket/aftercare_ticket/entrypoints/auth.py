"""API keys and roles: who may send which command, and who may see contact details."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from aftercare.auth import Principal, PrincipalDep
from aftercare.problems import Problem
from aftercare_ticket.domain.commands import TICKET_COMMANDS
from aftercare_ticket.service_layer.service import Caller

ALL_COMMANDS = frozenset({"raise", *TICKET_COMMANDS})
ROLE_COMMANDS: dict[str, frozenset[str]] = {
    "intake": frozenset({"raise", "provide_info", "withdraw", "answer_quote"}),
    "engineer": ALL_COMMANDS,
    "reader": frozenset(),
    "supervisor": frozenset(),  # reads tickets, indicators and reports
    "notifier": frozenset({"report_progress"}),
    "admin": ALL_COMMANDS,
}


def require_command(command: str) -> Any:
    """A dependency that lets through only roles allowed to send ``command``."""

    async def check(principal: PrincipalDep) -> Principal:
        if command not in ROLE_COMMANDS.get(principal.role, frozenset()):
            raise Problem(
                403,
                "forbidden",
                "This role may not send this command",
                f"role {principal.role!r} may not {command.replace('_', '-')}",
                role=principal.role,
                command=command.replace("_", "-"),
            )
        return principal

    return Depends(check)


async def require_contact_access(principal: PrincipalDep) -> Principal:
    if not principal.sees_personal_data:
        raise Problem(
            403,
            "forbidden",
            "Contact details are restricted",
            f"role {principal.role!r} may not read contact details (P-PII)",
            role=principal.role,
            rule="P-PII",
        )
    return principal


async def caller_of(
    request: Request,
    principal: PrincipalDep,
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
    x_actor: Annotated[
        str | None,
        Header(max_length=200, description="the person acting, recorded beside the key's name"),
    ] = None,
) -> Caller:
    """F-9: which key, on whose behalf, and which request, for every event recorded."""
    request_id: str = getattr(request.state, "request_id", None) or str(uuid.uuid4())
    return Caller(
        actor=x_actor or principal.key_name,
        key=principal.key_name,
        role=principal.role,
        request_id=request_id,
        correlation_id=x_correlation_id or request_id,
    )
