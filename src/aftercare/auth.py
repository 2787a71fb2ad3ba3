"""API keys shared by every service's HTTP API: ``Authorization: Bearer <key>`` → role.

Dependencies here are ``async def`` on purpose: FastAPI runs plain ``def`` ones in a
thread pool, a thread hop per request for a dictionary lookup.

Keys and their roles come from ``AFTERCARE_API_KEYS`` (``app.state.api_keys``); what a
role may do is each service's business.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from aftercare.problems import Problem

CONTACT_ROLES = frozenset({"admin", "notifier"})
"""Roles that may see customers' personal data (P-PII)."""


@dataclass(frozen=True, slots=True)
class Principal:
    role: str
    key_id: str

    @property
    def sees_personal_data(self) -> bool:
        return self.role in CONTACT_ROLES


async def authenticate(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    keys: dict[str, str] = request.app.state.api_keys
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(
            401,
            "unauthenticated",
            "An API key is required",
            "send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    role = keys.get(key.strip())
    if role is None:
        raise Problem(
            401, "unauthenticated", "Unknown API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return Principal(role=role, key_id=hashlib.sha256(key.encode()).hexdigest()[:12])


PrincipalDep = Annotated[Principal, Depends(authenticate)]
