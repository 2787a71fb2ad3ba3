"""The reporting API: the service-quality indicators of any period, per period and
slice, each with value, numerator, denominator, target, met and the cases behind it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.asgi import DoorLimits
from aftercare.auth import KeyRing, Principal
from aftercare.http import create_service_app
from aftercare.instants import Instant
from aftercare.problems import Problem
from aftercare_reporting.adapters.report_files import kpi_csv, kpi_html
from aftercare_reporting.adapters.report_pdf import cjk_font
from aftercare_reporting.domain.kpis import DEFINITIONS
from aftercare_reporting.domain.periods import Period, Slice
from aftercare_reporting.entrypoints.access import supervisor
from aftercare_reporting.entrypoints.assessments import install_assessment_routes
from aftercare_reporting.entrypoints.indicators import install_indicator_routes
from aftercare_reporting.entrypoints.publications import install_publication_routes
from aftercare_reporting.entrypoints.surveys import PATH as SURVEYS
from aftercare_reporting.entrypoints.surveys import install_survey_routes
from aftercare_reporting.service_layer.projection import Reporting
from aftercare_reporting.service_layer.publishing import ReportPublisher

MAX_TICKETS = 100


class KpiOut(BaseModel):
    kpi: str
    value: float | None
    numerator: float
    denominator: int
    target: float | None
    comparison: str
    met: bool | None
    unit: str
    tickets: list[str]
    """Cases that count against it (at most 100)."""


class IssueOut(BaseModel):
    ticket_id: str
    rule: str
    detail: str


class RowOut(BaseModel):
    start: datetime
    end: datetime
    slice: str
    cases: int
    kpis: list[KpiOut]
    set_aside: list[IssueOut]
    """The cleaning log (Q §七): cases left out of the figures, and why."""


class KpisOut(BaseModel):
    definitions: str
    """The version of the definitions (docs/kpis.md) these figures were computed with."""
    as_of: datetime
    period: str
    group_by: str | None
    rows: list[RowOut]


class DefectOut(BaseModel):
    model: str
    lot: str
    cause: str
    count: int
    tickets: list[str]


def _check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Problem(422, "validation-error", "The period is empty", "to after from", field="to")
    if (end - start).days > 3660:
        raise Problem(422, "validation-error", "The period is too long", "ten years", field="to")


def create_reporting_app(
    engine: AsyncEngine,
    reporting: Reporting,
    keys: KeyRing,
    limits: DoorLimits | None = None,
    survey_secret: str = "dev-survey-secret",
    publisher: ReportPublisher | None = None,
) -> FastAPI:
    app = create_service_app(
        title="Aftercare reporting",
        description="Service-quality indicators (Q §六) of any period, per period and slice.",
        engine=engine,
        keys=keys,
        limits=replace(limits or DoorLimits(), form_paths=(SURVEYS,)),
    )
    install_survey_routes(app, engine, survey_secret, reporting.clock)

    _install_kpis(app, reporting)
    _install_reports(app, reporting)
    install_assessment_routes(app, reporting)
    install_indicator_routes(app, reporting)
    install_publication_routes(app, publisher or ReportPublisher(reporting, cjk_font()))
    return app


def _install_kpis(app: FastAPI, reporting: Reporting) -> None:
    @app.get("/kpis", response_model=KpisOut, tags=["kpis"])
    async def kpis(
        _: Annotated[Principal, Depends(supervisor)],
        start: Annotated[Instant, Query(alias="from", description="cases raised from")],
        end: Annotated[Instant, Query(alias="to", description="…until (excluded)")],
        period: Annotated[Period, Query()] = "all",
        group_by: Annotated[Slice | None, Query()] = None,
        as_of: Annotated[
            Instant | None, Query(description="only what was recorded by then")
        ] = None,
    ) -> dict[str, Any]:
        """Each indicator's value, numerator, denominator, target and whether it was met."""
        _check_range(start, end)
        rows = await reporting.kpis(start, end, period, group_by, as_of)
        return {
            "definitions": DEFINITIONS,
            "as_of": as_of or reporting.clock.now(),
            "period": period,
            "group_by": group_by,
            "rows": [
                {
                    "start": row.start,
                    "end": row.end,
                    "slice": row.slice,
                    "cases": row.cases,
                    "kpis": [
                        {**vars(r), "met": r.met, "tickets": list(r.tickets[:MAX_TICKETS])}
                        for r in row.results
                    ],
                    "set_aside": [vars(issue) for issue in row.set_aside[:MAX_TICKETS]],
                }
                for row in rows
            ],
        }


def _install_reports(app: FastAPI, reporting: Reporting) -> None:
    @app.get(
        "/reports/kpis.{format}",
        tags=["reports"],
        response_class=Response,
        responses={200: {"content": {"text/csv": {}, "text/html": {}}}},
    )
    async def kpi_report(
        _: Annotated[Principal, Depends(supervisor)],
        format: Annotated[Literal["csv", "html"], Path()],
        start: Annotated[Instant, Query(alias="from", description="cases raised from")],
        end: Annotated[Instant, Query(alias="to", description="…until (excluded)")],
        period: Annotated[Period, Query()] = "month",
        group_by: Annotated[Slice | None, Query()] = None,
        as_of: Annotated[Instant | None, Query()] = None,
        language: Annotated[Literal["zh-CN", "en"], Query()] = "zh-CN",
    ) -> Response:
        """The indicators of a period as CSV, or as an HTML report (summary, each
        period's table, the cleaning log, the top defects), in Chinese or English."""
        _check_range(start, end)
        rows = await reporting.kpis(start, end, period, group_by, as_of)
        if format == "csv":
            return Response(kpi_csv(rows), media_type="text/csv; charset=utf-8")
        cut_off = as_of or reporting.clock.now()
        page = kpi_html(rows, start, end, cut_off, await reporting.defects(start, end), language)
        return Response(page, media_type="text/html; charset=utf-8")

    @app.get("/defects", response_model=list[DefectOut], tags=["kpis"])
    async def defects(
        _: Annotated[Principal, Depends(supervisor)],
        start: Annotated[Instant, Query(alias="from", description="cases raised from")],
        end: Annotated[Instant, Query(alias="to", description="…until (excluded)")],
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
    ) -> list[dict[str, Any]]:
        """Faults by product model, lot and cause, the largest group first (Wn, S A12)."""
        groups = await reporting.defects(start, end)
        return [
            {
                "model": g.model,
                "lot": g.lot,
                "cause": g.cause,
                "count": g.count,
                "tickets": list(g.tickets[:MAX_TICKETS]),
            }
            for g in groups[:limit]
        ]
