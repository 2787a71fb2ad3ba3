"""Who reads indicators, reports and assessments: supervisors and admins."""

from __future__ import annotations

from aftercare.auth import Principal, PrincipalDep
from aftercare.problems import Problem

READERS = frozenset({"supervisor", "admin"})


async def supervisor(principal: PrincipalDep) -> Principal:
    if principal.role not in READERS:
        raise Problem(403, "forbidden", "Only supervisors read indicators", role=principal.role)
    return principal
