"""The reporting projection's tables: each case's snapshot with its published facts and
the time each was recorded here (a report "as of" a cut-off reads only what was recorded
by then), and one row per case to find a period's cases by when they were raised."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from aftercare.sqltypes import JsonDocument, UtcDateTime

metadata = MetaData()

report_cases = Table(
    "report_cases",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_report_cases_requested_at", "requested_at"),
)

report_snapshots = Table(
    "report_snapshots",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("requested_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("last_sequence", Integer, nullable=False),
    Column("folded", Integer, nullable=False),
    Column("document", JsonDocument, nullable=False),
    Column("facts", Text, nullable=False, server_default="[]"),
    Index("ix_report_snapshots_requested_at", "requested_at", "updated_at"),
)
"""Each case folded as its facts arrived (``adapters.snapshots``): ``updated_at`` is when
it last changed, ``folded`` how many facts it holds (fewer than ``last_sequence``: a gap,
folded again when the missing fact arrives), ``facts`` the facts themselves
(``adapters.case_facts``)."""

kpi_alarms = Table(
    "kpi_alarms",
    metadata,
    Column("kpi", String(64), primary_key=True),
    Column("alarming", Boolean, nullable=False),
    Column("since", UtcDateTime, nullable=False),
)
"""An indicator in an alarm episode (Q §九): one alarm when it starts, one when it ends."""

survey_answers = Table(
    "survey_answers",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=False),
    Column("answered_at", UtcDateTime, nullable=False),
    Column("attitude", Integer, nullable=False),
    Column("speed", Integer, nullable=False),
    Column("solving", Integer, nullable=False),
    Column("overall", Integer, nullable=False),
    Index("ix_survey_answers_ticket", "ticket_id"),
)
"""One answer per survey link (the token's nonce): Q §七's touchpoints, each 1–5."""

report_verdicts = Table(
    "report_verdicts",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("rule", String(64), primary_key=True),
    Column("cycle", Integer, primary_key=True),
    Column("met", Boolean, nullable=False),
    Column("title", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)
"""The SLA watcher's verdicts as published (M-SLA, M-SPARES): one per ticket, rule and
cycle (the watcher never reports a breached clock as met)."""

assessments = Table(
    "assessments",
    metadata,
    Column("assessment_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("assessed_on", String(10), nullable=False),
    Column("total", Float, nullable=False),
    Column("level", String(20), nullable=False),
    Column("entered_by", String(100), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)
"""The latest version of each self-assessment (S §6), for listing; every version is an
``AssessmentRecorded`` event in stream ``assessment-<id>``."""

indicator_entries = Table(
    "indicator_entries",
    metadata,
    Column("indicator", String(64), primary_key=True),
    Column("valid_from", UtcDateTime, primary_key=True),
    Column("value", Float, nullable=False),
    Column("note", String(500), nullable=False),
    Column("entered_by", String(100), nullable=False),
    Column("recorded_at", UtcDateTime, primary_key=True),
)
"""Operator-entered indicators of Q's tree (service network, staff, training, stock…):
the value that holds from ``valid_from``, one row per entry (a correction is a new row,
so a score "as of" an earlier day still reads what was known then); each entry is also
an ``IndicatorEntered`` event."""

report_publications = Table(
    "report_publications",
    metadata,
    Column("publication_id", String(32), primary_key=True),
    Column("cadence", String(16), nullable=False),
    Column("period_start", UtcDateTime, nullable=False),
    Column("period_end", UtcDateTime, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
    Column("language", String(8), nullable=False),
    Column("title", String(200), nullable=False),
    Column("requested_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_report_publications_created", "created_at"),
)
"""Every report published (Q §七), scheduled or on demand; a scheduled one's id is
derived from its period and language, so two instances never publish it twice."""

report_documents = Table(
    "report_documents",
    metadata,
    Column("publication_id", String(32), primary_key=True),
    Column("format", String(8), primary_key=True),
    Column("media_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)
"""The files of a publication: HTML, PDF, XLSX and CSV, kept as published."""
