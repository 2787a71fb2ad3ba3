"""Signing in and out, and the guard every console page passes: no session, or a form
not sent from the console, and the request goes no further."""

from __future__ import annotations

from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from aftercare_ticket.console.rendering import Pages
from aftercare_ticket.console.session import PATH, ConsoleSessions, SignedIn

MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 100


async def posted_form(request: Request) -> dict[str, list[str]]:
    """The form's fields (the front door has already bounded the body's size)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", "replace"), max_num_fields=MAX_FIELDS)


def first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def to_sign_in(request: Request) -> RedirectResponse:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"{PATH}/sign-in?next={quote(target)}", status_code=303)


def safe_next(target: str) -> str:
    """Only a console page: never another site (``//evil.example``) after signing in."""
    if target.startswith(PATH + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PATH}/queue"


def add_access_routes(router: APIRouter, sessions: ConsoleSessions, pages: Pages) -> None:
    async def sign_in_page(request: Request) -> Response:
        token = sessions.sign_in_token(request)
        target = safe_next(request.query_params.get("next", ""))
        page = pages.render(request, "sign_in.html.j2", token=token, failed=False, next=target)
        sessions.keep_sign_in_token(page, token)
        return page

    async def sign_in(request: Request) -> Response:
        form = await posted_form(request)
        target = safe_next(first(form, "next"))
        if not sessions.sign_in_form_valid(request, first(form, "token")):
            return pages.render(request, "message.html.j2", 403, message="bad_form")
        response: Response = RedirectResponse(target, status_code=303)
        if sessions.sign_in(first(form, "api_key")[:500], response) is None:
            page = pages.render(request, "sign_in.html.j2", 401, failed=True, next=target,
                                token=first(form, "token"))  # fmt: skip
            return page
        return response

    async def sign_out(request: Request) -> Response:
        session = sessions.current(request)
        form = await posted_form(request)
        response = RedirectResponse(f"{PATH}/sign-in", status_code=303)
        if session is not None and sessions.form_valid(session, first(form, "csrf")):
            sessions.sign_out(response)
        return response

    async def home() -> Response:
        return RedirectResponse(f"{PATH}/queue", status_code=303)

    router.add_api_route("", home, methods=["GET"])
    router.add_api_route("/sign-in", sign_in_page, methods=["GET"])
    router.add_api_route("/sign-in", sign_in, methods=["POST"])
    router.add_api_route("/sign-out", sign_out, methods=["POST"])


def guarded(sessions: ConsoleSessions, request: Request) -> SignedIn | Response:
    session = sessions.current(request)
    return session if session is not None else to_sign_in(request)
