"""Pages from the package's Jinja2 templates, every value escaped (autoescape), in the
page's language and the desk's time zone, with the headers every console page carries:
a Content-Security-Policy that allows the console's own files only (no inline script
or style, so injected markup cannot run), no framing, no referrer beyond the console."""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from aftercare_ticket.console.i18n import LANG_COOKIE, LANGUAGES, Words, language_of
from aftercare_ticket.console.session import PATH

STATIC = str(files("aftercare_ticket.console") / "static")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Pages:
    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.environment = Environment(
            loader=PackageLoader("aftercare_ticket.console", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.filters["local"] = self.local
        self.environment.filters["iso"] = lambda at: at.isoformat() if at else ""

    def local(self, at: datetime | str | None) -> str:
        if at is None or at == "":
            return "-"
        moment = datetime.fromisoformat(at) if isinstance(at, str) else at
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def render(
        self,
        request: Request,
        template: str,
        status: int = 200,
        *,
        language: str | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """``language``: the page's own (a customer's), unless the reader switches."""
        chosen = request.query_params.get("lang")
        if language is None or chosen in LANGUAGES:
            language = language_of(request)
        body = self.environment.get_template(template).render(
            t=Words(language),
            lang=language,
            languages=LANGUAGES,
            path=request.url.path,
            **context,
        )
        response = HTMLResponse(body, status_code=status, headers=HEADERS)
        if chosen in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE, chosen, max_age=365 * 86400, path=PATH, samesite="strict"
            )
        return response
