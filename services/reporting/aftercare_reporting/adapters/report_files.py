"""The indicators as files people read and spreadsheets open: CSV (one row per period,
slice and indicator) and a self-contained HTML report in Chinese or English (no script,
no external asset)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from aftercare_reporting.adapters.report_words import WORDS
from aftercare_reporting.domain.defects import DefectGroup
from aftercare_reporting.domain.kpis import DEFINITIONS
from aftercare_reporting.domain.periods import Row

COLUMNS = (
    "start",
    "end",
    "slice",
    "cases",
    "kpi",
    "value",
    "numerator",
    "denominator",
    "target",
    "comparison",
    "met",
    "definitions",
)
TEMPLATES = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parents[1] / "templates")),
    autoescape=select_autoescape(["html", "j2"]),
)


def kpi_csv(rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        for r in row.results:
            writer.writerow(
                (
                    row.start.isoformat(),
                    row.end.isoformat(),
                    row.slice,
                    row.cases,
                    r.kpi,
                    "" if r.value is None else round(r.value, 2),
                    round(r.numerator, 2),
                    r.denominator,
                    "" if r.target is None else r.target,
                    r.comparison,
                    "" if r.met is None else r.met,
                    DEFINITIONS,
                )
            )
    return out.getvalue()


def kpi_html(
    rows: Sequence[Row],
    start: datetime,
    end: datetime,
    as_of: datetime,
    defects: Sequence[DefectGroup],
    language: str = "zh-CN",
) -> str:
    missed = sorted({r.kpi for row in rows for r in row.results if r.met is False})
    return TEMPLATES.get_template("report.html.j2").render(
        language=language if language in WORDS else "zh-CN",
        words=WORDS.get(language, WORDS["zh-CN"]),
        start=start.isoformat(),
        end=end.isoformat(),
        as_of=as_of.isoformat(),
        definitions=DEFINITIONS,
        rows=rows,
        total_cases=sum(row.cases for row in rows),
        missed=missed,
        defects=list(defects)[:20],
    )
