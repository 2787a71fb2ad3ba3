"""The customer's satisfaction survey (Q §七, S C4, W §售后服务改进): a page reached from
the signed, expiring link in the closing message, answered once without a login; a
plain HTML form (no script needed) or JSON for a customer's own system."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import Clock
from aftercare.problems import Problem
from aftercare.public_pages import PerAddressLimit
from aftercare.tokens import TokenRefused, verify
from aftercare_reporting.adapters.surveys import ITEMS, AlreadyAnswered, record_answer

PATH = "/surveys/"
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "How did we do?",
        "intro": "Your request {ticket} is closed. Four questions, 1 (poor) to 5 (excellent):",
        "attitude": "Our attitude",
        "speed": "How fast we responded",
        "solving": "How well the problem was solved",
        "overall": "Overall",
        "send": "Send",
        "thanks": "Thank you: your answer is recorded.",
        "too_many": "Too many requests from your address: try again in a minute.",
        "used": "This survey was answered already. Thank you.",
        "refused": "This link is not valid any more.",
    },
    "zh-CN": {
        "title": "请评价我们的服务",
        "intro": "您的服务请求 {ticket} 已关闭。请为以下四项打分，1（差）至 5（很好）：",
        "attitude": "服务态度",
        "speed": "响应速度",
        "solving": "问题解决",
        "overall": "总体满意度",
        "send": "提交",
        "thanks": "谢谢！您的评价已记录。",
        "too_many": "您的访问过于频繁，请一分钟后再试。",
        "used": "此问卷已填写过，谢谢。",
        "refused": "此链接已失效。",
    },
}


def _page(language: str, body: str, status: int = 200) -> HTMLResponse:
    words = WORDS.get(language, WORDS["zh-CN"])
    document = (
        f'<!doctype html><html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(words['title'])}</title></head><body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status)


def _form(token: str, ticket: str, language: str) -> HTMLResponse:
    words = WORDS.get(language, WORDS["zh-CN"])
    rows = "".join(
        f"<fieldset><legend>{html.escape(words[item])}</legend>"
        + "".join(
            f'<label><input type="radio" name="{item}" value="{n}" required> {n}</label> '
            for n in range(1, 6)
        )
        + "</fieldset>"
        for item in ITEMS
    )
    intro = html.escape(words["intro"].format(ticket=ticket))
    action = html.escape(PATH + token)
    body = (
        f"<h1>{html.escape(words['title'])}</h1><p>{intro}</p>"
        f'<form method="post" action="{action}">{rows}'
        f'<button type="submit">{html.escape(words["send"])}</button></form>'
    )
    return _page(language, body)


def _scores(values: dict[str, Any]) -> dict[str, int]:
    """B-SATISFACTION: each item 1–5, all four given."""
    scores = {}
    for item in ITEMS:
        raw = values.get(item)
        try:
            score = int(raw) if raw is not None and not isinstance(raw, bool) else 0
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            raise Problem(
                422,
                "rule-refusal",
                "Refused by B-SATISFACTION",
                f"{item}: a score from 1 to 5",
                rule="B-SATISFACTION",
                field=item,
            )
        scores[item] = score
    return scores


async def _answer(request: Request) -> tuple[dict[str, Any], bool]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        return {name: values[0] for name, values in fields.items()}, True
    try:
        document = await request.json()
    except ValueError as error:
        raise Problem(422, "validation-error", "The body is not JSON", field="body") from error
    return (document if isinstance(document, dict) else {}), False


def install_survey_routes(app: FastAPI, engine: AsyncEngine, secret: str, clock: Clock) -> None:
    limit = PerAddressLimit("survey")

    def claims_of(token: str) -> dict[str, Any] | None:
        try:
            return verify(secret, token, clock.now())
        except TokenRefused:
            return None

    @app.get(PATH + "{token}", tags=["surveys"], include_in_schema=False)
    async def survey_page(token: str, request: Request) -> Response:
        if not await limit.allows(request):
            return _page("zh-CN", f"<p>{html.escape(WORDS['zh-CN']['too_many'])}</p>", 429)
        claims = claims_of(token)
        if claims is None:
            return _page("zh-CN", f"<p>{html.escape(WORDS['zh-CN']['refused'])}</p>", 410)
        return _form(token, str(claims.get("ticket", "")), str(claims.get("lang", "zh-CN")))

    @app.post(PATH + "{token}", tags=["surveys"], include_in_schema=False)
    async def survey_answer(token: str, request: Request) -> Response:
        if not await limit.allows(request):
            raise Problem(429, "too-many-requests", "Too many requests from this address")
        claims = claims_of(token)
        values, as_form = await _answer(request)
        language = str((claims or {}).get("lang", "zh-CN"))
        words = WORDS.get(language, WORDS["zh-CN"])
        if claims is None:
            if as_form:
                return _page(language, f"<p>{html.escape(words['refused'])}</p>", 410)
            raise Problem(410, "gone", "The survey link is not valid any more", field="token")
        scores = _scores(values)
        try:
            await record_answer(
                engine, str(claims["nonce"]), str(claims["ticket"]), scores, clock.now()
            )
        except AlreadyAnswered:
            if as_form:
                return _page(language, f"<p>{html.escape(words['used'])}</p>", 409)
            raise Problem(409, "already-answered", "This survey was answered already") from None
        if as_form:
            return _page(language, f"<p>{html.escape(words['thanks'])}</p>")
        return JSONResponse({"ticket_id": claims["ticket"], **scores})
