"""A report as a workbook (openpyxl): one sheet per table of the report — summary,
findings, trends with a line chart, each comparison, the heat map by region (a colour
scale on the attainment), data quality and defects — so every figure can be worked on."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from aftercare_reporting.domain.report_content import HEAT_KPIS, TREND_KPIS, ReportContent

BOLD = Font(bold=True)
MISSED = PatternFill("solid", fgColor="FDE2E2")
Cell = str | float | int | None


def sheet_name(title: str) -> str:
    """A title as Excel allows one: no ``: \\ / ? * [ ]``, at most 31 characters."""
    return "".join(" " if c in ":\\/?*[]" else c for c in title).strip()[:31]


def _sheet(
    book: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
) -> Worksheet:
    sheet: Worksheet = book.create_sheet(sheet_name(title))
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = BOLD
    for row in rows:
        sheet.append(list(row))
    sheet.freeze_panes = "A2"
    return sheet


def report_xlsx(content: ReportContent, words: dict[str, str], title: str) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    book.properties.title = title
    book.properties.creator = "Aftercare"
    book.properties.created = book.properties.modified = content.as_of.replace(tzinfo=None)
    _summary(book, content, words, title)
    _sheet(
        book,
        words["findings"],
        [words["indicator"], words["value"], words["target"], words["gap"], words["worst"]],
        [
            [f.kpi, f.value, f.target, f.gap, "; ".join(f"{b} {w}: {v:.1f}" for b, w, v in f.worst)]
            for f in content.findings
        ],
    )
    _trends(book, content, words)
    for by, rows in content.comparisons.items():
        _sheet(
            book,
            words.get(f"by_{by}", by),
            [words["slice"], words["cases_short"], *HEAT_KPIS],
            [
                [
                    row.slice,
                    row.cases,
                    *({r.kpi: r.value for r in row.results}.get(k) for k in HEAT_KPIS),
                ]
                for row in rows
            ],
        )
    _heat(book, content, words)
    _quality(book, content, words)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _summary(book: Workbook, content: ReportContent, words: dict[str, str], title: str) -> None:
    rows: list[list[Cell]] = [
        [
            r.kpi,
            r.value,
            r.numerator,
            r.denominator,
            r.target,
            r.comparison,
            None if r.met is None else (r.met and 1) or 0,
        ]
        for r in content.summary
    ]
    sheet = _sheet(
        book,
        words["summary"],
        [
            words["indicator"],
            words["value"],
            words["numerator"],
            words["denominator"],
            words["target"],
            "comparison",
            words["met"],
        ],
        rows,
    )
    for number, result in enumerate(content.summary, start=2):
        if result.met is False:
            for cell in sheet[number]:
                cell.fill = MISSED
    sheet.append([])
    sheet.append([title, f"{content.start.isoformat()} – {content.end.isoformat()}"])
    sheet.append([words["cases"], content.cases])
    sheet.append(
        [words["definitions"], content.definitions, words["as_of"], content.as_of.isoformat()]
    )


def _trends(book: Workbook, content: ReportContent, words: dict[str, str]) -> None:
    rows = [
        [label, *(content.trends[k][n] for k in TREND_KPIS)]
        for n, label in enumerate(content.trend_labels)
    ]
    sheet = _sheet(book, words["trends"], [words["period"], *TREND_KPIS], rows)
    if rows:
        chart = LineChart()
        chart.title = words["trends"]
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        data = Reference(
            sheet, min_col=2, max_col=1 + len(TREND_KPIS), min_row=1, max_row=1 + len(rows)
        )
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=1 + len(rows)))
        sheet.add_chart(chart, f"{chr(ord('A') + len(TREND_KPIS) + 2)}2")


def _heat(book: Workbook, content: ReportContent, words: dict[str, str]) -> None:
    rows = [
        [
            region,
            *(
                None if (s := content.heat[region][k]) is None else round(100 * s, 1)
                for k in HEAT_KPIS
            ),
        ]
        for region in content.heat_regions
    ]
    sheet = _sheet(book, words["heat_map"], [words["slice"], *HEAT_KPIS], rows)
    if rows:
        last = f"{chr(ord('A') + len(HEAT_KPIS))}{1 + len(rows)}"
        rule = ColorScaleRule(  # type: ignore[no-untyped-call]
            start_type="num",
            start_value=0,
            start_color="F8696B",
            mid_type="num",
            mid_value=80,
            mid_color="FFEB84",
            end_type="num",
            end_value=100,
            end_color="63BE7B",
        )
        sheet.conditional_formatting.add(f"B2:{last}", rule)


def _quality(book: Workbook, content: ReportContent, words: dict[str, str]) -> None:
    _sheet(
        book,
        words["set_aside"],
        ["ticket", "rule", "detail"],
        [[i.ticket_id, i.rule, i.detail] for i in content.set_aside]
        + [[t, "M-OUTLIER", words["outliers"]] for t in content.outliers],
    )
    _sheet(
        book,
        words["defects"],
        [words["model"], words["lot"], words["cause"], words["count"]],
        [[d.model, d.lot, d.cause, d.count] for d in content.defects],
    )
    _sheet(
        book,
        words["recommendations"],
        [words["recommendations"]],
        [[t] for t in content.recommendations],
    )
