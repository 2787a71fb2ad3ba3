"""A report as PDF (A4), laid out with fpdf2, Chinese text in an embedded CJK font
(subset: only the glyphs used). Reproducible: the document's dates are the report's
cut-off, so the same content gives the same bytes."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from aftercare_reporting.adapters.report_format import figure, met, target
from aftercare_reporting.domain.report_content import HEAT_KPIS, TREND_KPIS, ReportContent

FONT = "cjk"
HEAD = FontFace(fill_color=(230, 236, 245))  # one weight embedded: shade, not bold
MISSED = FontFace(fill_color=(253, 226, 226))
GOOD = FontFace(fill_color=(226, 245, 229))


def cjk_font(configured: Path | None = None) -> Path:
    """The font embedded in reports: ``AFTERCARE_REPORT_FONT`` if set, else WenQuanYi
    Micro Hei from its data package (installed with the service)."""
    if configured is not None:
        return configured
    return Path(str(resources.files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"))


def _heading(pdf: FPDF, text: str, size: int = 13) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, size=size)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)


def _table(
    pdf: FPDF,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    styles: Sequence[FontFace | None] = (),
    widths: Sequence[float] = (),
) -> None:
    """A table; by default the first column (indicator or slice) twice as wide."""
    widths = tuple(widths) or (2.0, *([1.0] * (len(header) - 1)))
    with pdf.table(
        headings_style=HEAD, line_height=5.5, text_align="LEFT", col_widths=widths
    ) as table:
        row = table.row()
        for text in header:
            row.cell(text)
        for number, values in enumerate(rows):
            style = styles[number] if number < len(styles) else None
            row = table.row()
            for text in values:
                row.cell(text, style=style)


def _trend_chart(pdf: FPDF, content: ReportContent, kpi: str) -> None:
    """One indicator's values per step as a line over a 0–100 frame."""
    values = content.trends.get(kpi, [])
    width, height = 170.0, 28.0
    x0, y0 = pdf.l_margin + 10, pdf.get_y() + 2
    if pdf.will_page_break(height + 10):
        pdf.add_page()
        y0 = pdf.get_y() + 2
    pdf.set_draw_color(180, 180, 180)
    pdf.rect(x0, y0, width, height)
    pdf.set_font(FONT, size=7)
    pdf.text(pdf.l_margin, y0 + 3, "100")
    pdf.text(pdf.l_margin, y0 + height, "0")
    pdf.text(x0 + 2, y0 + 4, kpi)
    step = width / max(len(values) - 1, 1)
    points = [
        (x0 + number * step, y0 + height - height * min(max(v, 0), 100) / 100)
        for number, v in enumerate(values)
        if v is not None
    ]
    goal = content.targets.get(kpi)
    if goal is not None and 0 <= goal <= 100:
        pdf.set_draw_color(214, 39, 40)
        with pdf.local_context(dash_pattern={"dash": 1.2, "gap": 1.2}):
            level = y0 + height - height * goal / 100
            pdf.line(x0, level, x0 + width, level)
    pdf.set_draw_color(31, 119, 180)
    if len(points) > 1:
        pdf.polyline(points)
    for x, y in points:
        pdf.circle(x, y, 0.8, style="F")
    pdf.set_y(y0 + height + 1)
    labels = content.trend_labels
    every = max(1, len(labels) // 8)
    for number, label in enumerate(labels):
        if number % every == 0:
            pdf.text(x0 + number * step - 3, pdf.get_y() + 3, label)
    pdf.set_y(pdf.get_y() + 6)
    pdf.set_font(FONT, size=9)


def _heat(pdf: FPDF, content: ReportContent, words: dict[str, str]) -> None:
    header = [words["slice"], *HEAT_KPIS]
    with pdf.table(headings_style=HEAD, line_height=5.5) as table:
        row = table.row()
        for text in header:
            row.cell(text)
        for region in content.heat_regions:
            row = table.row()
            row.cell(region)
            for kpi in HEAT_KPIS:
                share = content.heat[region][kpi]
                if share is None:
                    row.cell("—")
                    continue
                red, green = int(255 - 90 * share), int(170 + 80 * share)
                row.cell(f"{100 * share:.0f} %", style=FontFace(fill_color=(red, green, 200)))


def report_pdf(content: ReportContent, words: dict[str, str], title: str, font: Path) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(content.as_of)
    pdf.set_title(title)
    pdf.set_author("Aftercare")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font(FONT, fname=str(font))
    pdf.add_page()
    _heading(pdf, title, 16)
    period = (
        f"{words['period']}: {content.title_period} · {words['definitions']} "
        f"{content.definitions} · {words['as_of']} {content.as_of.isoformat()}"
    )
    pdf.multi_cell(0, 5, period, new_x="LMARGIN", new_y="NEXT")
    _summary(pdf, content, words)
    _findings(pdf, content, words)
    _heading(pdf, words["trends"])
    for kpi in TREND_KPIS:
        _trend_chart(pdf, content, kpi)
    _comparisons(pdf, content, words)
    if content.heat_regions:
        _heading(pdf, words["heat_map"])
        _heat(pdf, content, words)
    _quality(pdf, content, words)
    return bytes(pdf.output())


def _summary(pdf: FPDF, content: ReportContent, words: dict[str, str]) -> None:
    _heading(pdf, words["summary"])
    missed = ", ".join(f.kpi for f in content.findings) or words["none"]
    pdf.multi_cell(
        0,
        5,
        f"{words['cases']}: {content.cases}. {words['missed']}: {missed}.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _heading(pdf, words["overview"])
    header = [
        words["indicator"],
        words["value"],
        words["numerator"],
        words["denominator"],
        words["target"],
        words["met"],
    ]
    rows = [
        [
            r.kpi,
            figure(r.value, r.unit),
            f"{r.numerator:g}",
            str(r.denominator),
            target(r),
            met(r, words),
        ]
        for r in content.summary
    ]
    styles = [MISSED if r.met is False else GOOD if r.met else None for r in content.summary]
    _table(pdf, header, rows, styles)


def _findings(pdf: FPDF, content: ReportContent, words: dict[str, str]) -> None:
    _heading(pdf, words["findings"])
    if not content.findings:
        pdf.multi_cell(0, 5, words["none"], new_x="LMARGIN", new_y="NEXT")
        return
    header = [words["indicator"], words["value"], words["target"], words["gap"], words["worst"]]
    rows = [
        [
            f.kpi,
            f"{f.value:.1f}",
            f"{'≥' if f.comparison == 'at_least' else '≤'} {f.target:g}",
            f"{f.gap:.1f}",
            "; ".join(f"{by} {where}: {value:.1f}" for by, where, value in f.worst) or "—",
        ]
        for f in content.findings
    ]
    _table(pdf, header, rows, widths=(2, 1, 1, 1, 4))


def _comparisons(pdf: FPDF, content: ReportContent, words: dict[str, str]) -> None:
    _heading(pdf, words["comparisons"])
    for by, rows in content.comparisons.items():
        _heading(pdf, words.get(f"by_{by}", by), 11)
        header = [words["slice"], words["cases_short"], *HEAT_KPIS]
        lines = []
        for row in rows:
            results = {r.kpi: r for r in row.results}
            lines.append(
                [
                    row.slice,
                    str(row.cases),
                    *(figure(results[k].value) if k in results else "—" for k in HEAT_KPIS),
                ]
            )
        _table(pdf, header, lines, widths=(1.4, 0.8, *([1.3] * len(HEAT_KPIS))))


def _quality(pdf: FPDF, content: ReportContent, words: dict[str, str]) -> None:
    _heading(pdf, words["outliers"])
    pdf.multi_cell(
        0, 5, ", ".join(content.outliers) or words["none"], new_x="LMARGIN", new_y="NEXT"
    )
    _heading(pdf, words["set_aside"])
    text = "; ".join(f"{i.ticket_id} ({i.rule}: {i.detail})" for i in content.set_aside[:50])
    pdf.multi_cell(0, 5, text or words["none"], new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, words["defects"])
    if content.defects:
        rows = [[d.model, d.lot, d.cause, str(d.count)] for d in content.defects]
        _table(pdf, [words["model"], words["lot"], words["cause"], words["count"]], rows)
    else:
        pdf.multi_cell(0, 5, words["none"], new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, words["recommendations"])
    for text in content.recommendations or [words["none"]]:
        pdf.multi_cell(0, 5, f"• {text}", new_x="LMARGIN", new_y="NEXT")
