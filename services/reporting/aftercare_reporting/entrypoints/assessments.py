"""The GB/T 27922 self-assessment over HTTP (S §6): the catalogue, a draft pre-filled
from the period's figures with the evidence linked, versioned records entered by an
assessor (optimistic concurrency by version), and each version rendered as a report."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from aftercare.auth import Principal
from aftercare.eventstore import ConcurrencyError
from aftercare.instants import Instant
from aftercare.problems import Problem
from aftercare_reporting.adapters import assessments as records
from aftercare_reporting.adapters.assessment_report import assessment_html
from aftercare_reporting.domain.assessment import Assessment, Rating, problems, score
from aftercare_reporting.domain.evidence import suggest
from aftercare_reporting.domain.gbt27922 import BANDS, CATALOGUE
from aftercare_reporting.entrypoints.access import supervisor
from aftercare_reporting.service_layer.projection import Reporting

Text = Annotated[str, StringConstraints(max_length=2000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
Share = Annotated[float, Field(ge=0, le=100)]
AssessmentId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MAX_TICKETS = 100
Boss = Annotated[Principal, Depends(supervisor)]


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shares: list[Share] = Field(default_factory=list, max_length=20)
    """Each assessor's share of the points, 0–100 (annex C's bands); their mean counts."""
    applicable: bool = True
    note: Text = ""


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    assessed_on: date
    assessors: list[Name] = Field(min_length=1, max_length=20)
    period_from: AwareDatetime | None = None
    period_to: AwareDatetime | None = None
    items: dict[Annotated[str, StringConstraints(max_length=8)], RatingIn] = Field(max_length=60)
    deductions: list[Annotated[str, StringConstraints(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=20
    )
    bonus: Annotated[float, Field(ge=0, le=1)] = 0.0
    bonus_reason: Annotated[str, StringConstraints(max_length=500)] = ""


def _domain(body: AssessmentIn) -> Assessment:
    ratings = {
        code: Rating(code, tuple(r.shares), r.applicable, r.note) for code, r in body.items.items()
    }
    return Assessment(ratings, tuple(body.deductions), body.bonus)


def scored_document(body: AssessmentIn, entered_by: str) -> dict[str, Any]:
    """The record to store: the body, who entered it, and its score; 422 listing every
    reason it cannot be scored."""
    assessment = _domain(body)
    found = problems(assessment)
    if found:
        errors = [{"field": f, "message": m, "type": "assessment"} for f, m in found]
        raise Problem(
            422,
            "validation-error",
            "The assessment is not complete",
            f"{found[0][0]}: {found[0][1]}",
            field=found[0][0],
            errors=errors,
        )
    result = score(assessment)
    document = body.model_dump(mode="json")
    document["entered_by"] = entered_by
    document["score"] = {
        **{k: v for k, v in vars(result).items() if k not in ("items", "parts")},
        "parts": {name: list(pair) for name, pair in result.parts.items()},
        "items": [vars(item) for item in result.items],
    }
    return document


def _version_out(event: Any) -> dict[str, Any]:
    return {
        "id": event.stream_id.removeprefix("assessment-"),
        "version": event.version,
        "recorded_at": event.recorded_at,
        **event.data,
    }


def _expected(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    digits = if_match.strip().strip('"')
    if not digits.isdigit() or len(digits) > 9:
        raise Problem(
            422, "validation-error", 'If-Match is a version such as "2"', field="If-Match"
        )
    return int(digits)


def install_assessment_routes(app: FastAPI, reporting: Reporting) -> None:
    _install_drafting(app, reporting)
    _install_recording(app, reporting)
    _install_reading(app, reporting)


def _install_drafting(app: FastAPI, reporting: Reporting) -> None:
    @app.get("/assessments/catalogue", tags=["assessments"])
    async def catalogue(_: Boss) -> dict[str, Any]:
        """Every indicator of S annex B with its points, and annex C's maturity bands."""
        return {
            "indicators": [vars(i) for i in CATALOGUE],
            "bands": [{"from": lo, "to": hi, "meaning": text} for lo, hi, text in BANDS],
        }

    @app.get("/assessments/draft", tags=["assessments"])
    async def draft(
        _: Boss,
        start: Annotated[Instant, Query(alias="from")],
        end: Annotated[Instant, Query(alias="to")],
    ) -> dict[str, Any]:
        """Suggested shares for what the period's figures evidence, with the figures and
        the cases behind them; the assessor rates the rest."""
        if end <= start:
            raise Problem(422, "validation-error", "The period is empty", field="to")
        rows = await reporting.kpis(start, end)
        figures = {r.kpi: r for r in rows[0].results} if rows else {}
        return {
            "period_from": start,
            "period_to": end,
            "suggestions": {
                code: {
                    "share": s.share,
                    "figures": [
                        {"kpi": f.kpi, "value": f.value, "target": f.target, "met": f.met}
                        for f in s.figures
                    ],
                    "tickets": list(s.tickets[:MAX_TICKETS]),
                }
                for code, s in suggest(figures).items()
            },
        }


def _install_recording(app: FastAPI, reporting: Reporting) -> None:
    engine = reporting.engine

    @app.post("/assessments", status_code=201, tags=["assessments"])
    async def create(body: AssessmentIn, principal: Boss, response: Response) -> dict[str, Any]:
        document = scored_document(body, principal.key_name)
        assessment_id = uuid.uuid4().hex
        await records.record_version(engine, assessment_id, 0, document, reporting.clock.now())
        response.headers["Location"] = f"/assessments/{assessment_id}"
        response.headers["ETag"] = '"1"'
        return {"id": assessment_id, "version": 1, **document}

    @app.put("/assessments/{assessment_id}", tags=["assessments"])
    async def revise(
        assessment_id: AssessmentId,
        body: AssessmentIn,
        principal: Boss,
        response: Response,
        if_match: Annotated[str | None, Header(alias="If-Match", max_length=12)] = None,
    ) -> dict[str, Any]:
        """A new version of an existing assessment; with If-Match, only on that version."""
        if not await records.versions_of(engine, assessment_id):
            raise Problem(404, "not-found", "No such assessment", id=assessment_id)
        document = scored_document(body, principal.key_name)
        try:
            version = await records.record_version(
                engine, assessment_id, _expected(if_match), document, reporting.clock.now()
            )
        except ConcurrencyError as error:
            raise Problem(
                409, "version-conflict", "The assessment changed", str(error), id=assessment_id
            ) from None
        response.headers["ETag"] = f'"{version}"'
        return {"id": assessment_id, "version": version, **document}


def _install_reading(app: FastAPI, reporting: Reporting) -> None:
    engine = reporting.engine

    @app.get("/assessments", tags=["assessments"])
    async def listing(
        _: Boss, limit: Annotated[int, Query(ge=1, le=200)] = 50
    ) -> list[dict[str, Any]]:
        return await records.listing(engine, limit)

    async def one(assessment_id: str, version: int | None) -> Any:
        versions = await records.versions_of(engine, assessment_id)
        chosen = [v for v in versions if version is None or v.version == version]
        if not chosen:
            raise Problem(404, "not-found", "No such assessment or version", id=assessment_id)
        return chosen[-1]

    @app.get("/assessments/{assessment_id}", tags=["assessments"])
    async def show(
        assessment_id: AssessmentId,
        _: Boss,
        version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    ) -> dict[str, Any]:
        return _version_out(await one(assessment_id, version))

    @app.get("/assessments/{assessment_id}/report.html", tags=["assessments"])
    async def report(
        assessment_id: AssessmentId,
        _: Boss,
        version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
        language: Annotated[Literal["zh-CN", "en"], Query()] = "zh-CN",
    ) -> Response:
        page = assessment_html(_version_out(await one(assessment_id, version)), language)
        return Response(page, media_type="text/html; charset=utf-8")
