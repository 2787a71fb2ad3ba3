"""API keys shared by every service's HTTP API: ``Authorization: Bearer <key>`` → who and role.

Dependencies here are ``async def`` on purpose: FastAPI runs plain ``def`` ones in a
thread pool, a thread hop per request for a dictionary lookup.

Keys come from ``AFTERCARE_API_KEYS`` as ``name:key=role`` pairs (the name is optional).
The name is what the audit trail records (F-9): never the secret, and never only what a
caller claims in ``X-Actor``. Keys are kept as SHA-256 digests and compared in constant
time, so neither the process's memory of them nor response timing gives one away. What
a role may do is each service's business.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aftercare.problems import Problem

CONTACT_ROLES = frozenset({"admin", "notifier"})
"""Roles that may see customers' personal data (P-PII)."""
ROLES = frozenset({"admin", "engineer", "intake", "reader", "notifier", "supervisor"})
FINGERPRINT = 16
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One configured key: its secret, the name the audit trail records, its role."""

    name: str
    secret: str
    role: str


@dataclass(frozen=True, slots=True)
class Principal:
    role: str
    key_name: str

    @property
    def sees_personal_data(self) -> bool:
        return self.role in CONTACT_ROLES


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_api_keys(text: str) -> list[ApiKey]:
    """``name:key=role,key=role``: a key without a name is named after its digest."""
    keys: list[ApiKey] = []
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        secret, sep, role = entry.rpartition("=")
        name, colon, rest = secret.partition(":")
        if colon and _NAME.match(name) and rest.strip():
            secret = rest
        else:
            name = ""
        secret, role = secret.strip(), role.strip()
        if not sep or not secret or not role:
            raise ValueError("an AFTERCARE_API_KEYS entry is not [name:]key=role")
        if role not in ROLES:
            raise ValueError(f"AFTERCARE_API_KEYS names unknown role {role!r}")
        keys.append(ApiKey(name or f"key-{_digest(secret).hex()[:12]}", secret, role))
    return keys


class KeyRing:
    """The keys one API accepts, by digest."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._by_digest = {_digest(key.secret): (key.name, key.role) for key in keys}
        self._by_fingerprint = {
            digest.hex()[:FINGERPRINT]: Principal(role=role, key_name=name)
            for digest, (name, role) in self._by_digest.items()
        }

    @staticmethod
    def fingerprint(secret: str) -> str:
        """A short digest that names a key without revealing it (a browser session
        made with the key keeps it, so rotating the key ends the session)."""
        return _digest(secret).hex()[:FINGERPRINT]

    def by_fingerprint(self, fingerprint: str) -> Principal | None:
        return self._by_fingerprint.get(fingerprint)

    def identify(self, secret: str) -> Principal | None:
        digest = _digest(secret)
        found: Principal | None = None
        for known, (name, role) in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                found = Principal(role=role, key_name=name)
        return found


bearer = HTTPBearer(auto_error=False, description="an API key: Authorization: Bearer <key>")


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials.strip():
        raise Problem(
            401,
            "unauthenticated",
            "An API key is required",
            "send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    keys: KeyRing = request.app.state.api_keys
    principal = keys.identify(credentials.credentials.strip())
    if principal is None:
        raise Problem(
            401, "unauthenticated", "Unknown API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]
