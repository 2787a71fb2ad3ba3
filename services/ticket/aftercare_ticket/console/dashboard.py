"""The supervisor's dashboard: each indicator of the range against its target, its trend
period by period (a small chart drawn on the server: no script), a comparison by kind,
region, engineer or another slice, the indicator tree's score, the latest
self-assessments, and the reports to download. Everything comes from the reporting
service's API; the figures are its own, never recomputed here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from aftercare.clock import Clock
from aftercare_ticket.console.access import guarded
from aftercare_ticket.console.rendering import Pages
from aftercare_ticket.console.reporting_client import ReportingClient
from aftercare_ticket.console.session import ConsoleSessions

READING_ROLES = frozenset({"supervisor", "admin"})
PERIODS = ("week", "month", "quarter")
SLICES = ("kind", "priority", "channel", "region", "assignee", "model")
MAX_DAYS = 731
CHART = (160, 36)


def trend_points(values: Sequence[float | None], ceiling: float | None = None) -> str:
    """SVG polyline points for ``values`` (gaps skipped), scaled to the chart's box."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    top = max([*known, ceiling or 0.0]) or 1.0
    width, height = CHART
    step = width / max(1, len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}"
        for i, v in enumerate(values)
        if v is not None
    )


def series(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[float | None]]:
    """Each indicator's value in each period, in period order."""
    found: dict[str, list[float | None]] = {}
    for number, row in enumerate(rows):
        for kpi in row["kpis"]:
            values = found.setdefault(kpi["kpi"], [None] * len(rows))
            values[number] = kpi["value"]
    return found


def _day(text: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(text) if text else fallback
    except ValueError:
        return fallback


class Dashboard:
    def __init__(
        self, sessions: ConsoleSessions, pages: Pages, reporting: ReportingClient, clock: Clock
    ) -> None:
        self.sessions = sessions
        self.pages = pages
        self.reporting = reporting
        self.clock = clock

    def install(self, router: APIRouter) -> None:
        router.add_api_route("/dashboard", self.show, methods=["GET"])
        router.add_api_route("/dashboard/report.{format_}", self.download, methods=["GET"])

    def _range(self, params: Mapping[str, str]) -> dict[str, str]:
        today = self.clock.now().astimezone(self.pages.zone).date()
        end = _day(params.get("to"), today + timedelta(days=1))
        start = _day(params.get("from"), end - timedelta(days=182))
        if not timedelta(days=1) <= end - start <= timedelta(days=MAX_DAYS):
            start, end = end - timedelta(days=182), end
        zone = self.pages.zone
        return {
            "from": datetime.combine(start, datetime.min.time(), zone).isoformat(),
            "to": datetime.combine(end, datetime.min.time(), zone).isoformat(),
        }

    async def show(self, request: Request) -> Response:
        session = guarded(self.sessions, request)
        if isinstance(session, Response):
            return session
        if session.principal.role not in READING_ROLES:
            return self.pages.render(request, "message.html.j2", 403, message="forbidden")
        params = request.query_params
        span = self._range(params)
        period = params["period"] if params.get("period") in PERIODS else "month"
        group_by = params["group_by"] if params.get("group_by") in SLICES else None
        whole = await self.reporting.kpis({**span, "period": "all"})
        trend = await self.reporting.kpis({**span, "period": period})
        compared = None
        if group_by:
            compared = await self.reporting.kpis({**span, "period": "all", "group_by": group_by})
        score = await self.reporting.score(span)
        assessments = await self.reporting.assessments()
        trends = series(trend["rows"]) if trend else {}
        return self.pages.render(
            request,
            "dashboard.html.j2",
            session=session,
            span=span,
            period=period,
            group_by=group_by,
            periods=PERIODS,
            slices=SLICES,
            totals=(whole or {}).get("rows", [{}])[0] if whole and whole["rows"] else None,
            trend_rows=(trend or {}).get("rows", []),
            charts={kpi: trend_points(values) for kpi, values in trends.items()},
            compared=(compared or {}).get("rows"),
            score=score,
            assessments=assessments or [],
            available=whole is not None,
            report_query=request.url.query,
        )

    async def download(self, request: Request, format_: str) -> Response:
        session = guarded(self.sessions, request)
        if isinstance(session, Response):
            return session
        if session.principal.role not in READING_ROLES or format_ not in ("csv", "html"):
            return self.pages.render(request, "message.html.j2", 403, message="forbidden")
        params = request.query_params
        period = params["period"] if params.get("period") in PERIODS else "month"
        query = {**self._range(params), "period": period}
        if params.get("group_by") in SLICES:
            query["group_by"] = params["group_by"]
        query["language"] = "en" if params.get("lang") == "en" else "zh-CN"
        answer = await self.reporting.report(format_, query)
        if answer is None:
            return self.pages.render(request, "message.html.j2", 503, message="reports_unavailable")
        name = f"aftercare-kpis-{query['from'][:10]}-{query['to'][:10]}.{format_}"
        return Response(
            answer.content,
            media_type=answer.headers.get("content-type", "application/octet-stream"),
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
