"""Signing in to the console with an API key: the key is checked once and never kept;
the browser holds a signed session cookie (``HttpOnly``, ``SameSite=Strict``, the
console's path only) naming the key, its role and a fingerprint of the key, so removing
or rotating the key in ``AFTERCARE_API_KEYS`` ends every session made with it.

Every form carries the session's CSRF token, and the sign-in form a token bound to a
cookie of its own (login CSRF): a page elsewhere cannot post in the user's name even in
a browser that ignores ``SameSite``."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from aftercare import tokens
from aftercare.auth import KeyRing, Principal
from aftercare.clock import Clock

SESSION_COOKIE = "aftercare_console"
SIGN_IN_COOKIE = "aftercare_console_sign_in"
PATH = "/console"


@dataclass(frozen=True, slots=True)
class SignedIn:
    principal: Principal
    csrf: str
    expires_at: datetime


class ConsoleSessions:
    def __init__(
        self,
        secret: str,
        keys: KeyRing,
        clock: Clock,
        *,
        lasts: timedelta = timedelta(hours=8),
        secure: bool = False,
    ) -> None:
        self.secret = secret
        self.keys = keys
        self.clock = clock
        self.lasts = lasts
        self.secure = secure

    def sign_in(self, api_key: str, response: Response) -> Principal | None:
        """Check ``api_key``; on success set the session cookie on ``response``."""
        principal = self.keys.identify(api_key.strip())
        if principal is None:
            return None
        now = self.clock.now()
        claims = {
            "k": principal.key_name,
            "r": principal.role,
            "f": KeyRing.fingerprint(api_key.strip()),
            "c": secrets.token_urlsafe(18),
        }
        token = tokens.sign(self.secret, claims, now + self.lasts)
        self._set(response, SESSION_COOKIE, token, int(self.lasts.total_seconds()))
        response.delete_cookie(SIGN_IN_COOKIE, path=PATH)
        return principal

    def current(self, request: Request) -> SignedIn | None:
        """The session of this request, if its cookie is valid and its key still is."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 2000:
            return None
        try:
            claims = tokens.verify(self.secret, token, self.clock.now())
        except tokens.TokenRefused:
            return None
        principal = self.keys.by_fingerprint(str(claims.get("f", "")))
        if principal is None or principal.key_name != claims.get("k"):
            return None
        if principal.role != claims.get("r"):
            return None
        expires = datetime.fromtimestamp(int(claims.get("exp", 0)), self.clock.now().tzinfo)
        return SignedIn(principal, str(claims.get("c", "")), expires)

    @staticmethod
    def sign_out(response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=PATH)

    @staticmethod
    def sign_in_token(request: Request) -> str:
        """The token the sign-in form carries: the browser's own, or a new one that
        ``keep_sign_in_token`` then sets as its cookie."""
        token = request.cookies.get(SIGN_IN_COOKIE) or ""
        return token if 20 <= len(token) <= 64 else secrets.token_urlsafe(24)

    def keep_sign_in_token(self, response: Response, token: str) -> None:
        self._set(response, SIGN_IN_COOKIE, token, 3600)

    @staticmethod
    def sign_in_form_valid(request: Request, sent: str) -> bool:
        expected = request.cookies.get(SIGN_IN_COOKIE) or ""
        return bool(expected) and hmac.compare_digest(expected.encode(), sent.encode())

    @staticmethod
    def form_valid(session: SignedIn, sent: str) -> bool:
        return bool(session.csrf) and hmac.compare_digest(session.csrf.encode(), sent.encode())

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=PATH,
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )
