"""The generated contracts under ``schemas/``: event schemas, AsyncAPI, the three OpenAPI
documents, as the code defines them today."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from aftercare.clock import SystemClock
from aftercare.settings import Settings
from aftercare_ticket.settings import TicketSettings

log = structlog.get_logger("aftercare")


def generated_contracts(directory: Path) -> dict[Path, str]:
    """Every file under ``schemas/``, as the code defines it today."""
    from aftercare import __version__
    from aftercare.auth import KeyRing
    from aftercare.db import create_engine
    from aftercare.schemas import asyncapi_document, render_json, render_yaml
    from aftercare_notifier.entrypoints.app import create_notifier_app
    from aftercare_reporting.adapters.publishing import quality_channel, quality_event_schemas
    from aftercare_reporting.entrypoints.app import create_reporting_app
    from aftercare_reporting.service_layer.projection import Reporting
    from aftercare_sla.adapters.publishing import sla_channel, sla_event_schemas
    from aftercare_ticket.adapters.contracts import ticket_channel, ticket_event_schemas
    from aftercare_ticket.entrypoints.app import create_app

    defaults = Settings.model_fields
    schemas = {**ticket_event_schemas(), **sla_event_schemas(), **quality_event_schemas()}
    files = {directory / "events" / name: render_json(schema) for name, schema in schemas.items()}
    asyncapi = asyncapi_document(
        title="Aftercare events",
        version=__version__,
        description=(
            "What Aftercare publishes on Kafka. Every message is a CloudEvent in binary "
            "mode: attributes in ce_* headers, the JSON data as the value."
        ),
        channels=[
            ticket_channel(str(defaults["ticket_events_topic"].default)),
            sla_channel(str(defaults["sla_topic"].default)),
            quality_channel(str(defaults["quality_topic"].default)),
        ],
        servers={"development": "localhost:9092", "production": "kafka:9092"},
    )
    files[directory / "asyncapi.yaml"] = render_yaml(asyncapi)
    files[directory / "openapi.json"] = render_json(create_app(TicketSettings()).openapi())
    sla_app = _documented_sla_app()
    files[directory / "sla-openapi.json"] = render_json(sla_app.openapi())
    notifier_app = create_notifier_app(create_engine("sqlite+aiosqlite://"), KeyRing([]))
    files[directory / "notifier-openapi.json"] = render_json(notifier_app.openapi())
    engine = create_engine("sqlite+aiosqlite://")
    reporting = Reporting(engine, SystemClock(), ZoneInfo("Asia/Shanghai"))
    reporting_app = create_reporting_app(engine, reporting, KeyRing([]))
    files[directory / "reporting-openapi.json"] = render_json(reporting_app.openapi())
    return files


def _documented_sla_app() -> Any:
    """The watcher's app as it serves, alert routes included (they need its keeper)."""
    from aftercare.auth import KeyRing
    from aftercare.db import create_engine
    from aftercare_sla.adapters.alert_store import SqlAlertStore
    from aftercare_sla.adapters.oncall_pages import AckLinks
    from aftercare_sla.domain.escalation import OnCallPolicy
    from aftercare_sla.entrypoints.ack_page import AckPage
    from aftercare_sla.entrypoints.app import create_sla_app
    from aftercare_sla.service_layer.alert_keeper import AlertKeeper

    engine, clock, oncall = create_engine("sqlite+aiosqlite://"), SystemClock(), OnCallPolicy()
    keeper = AlertKeeper(SqlAlertStore(engine), oncall, {}, clock)
    links = AckLinks("documentation-only-secret", "http://localhost:8001")
    page = AckPage(oncall, "http://localhost:8000/console", "Asia/Shanghai")
    return create_sla_app(engine, clock, KeyRing([]), oncall=oncall, alerts=(keeper, links, page))


def schemas_command(directory: Path, check: bool) -> int:
    from aftercare.schemas import stale_files, write_files

    expected = generated_contracts(directory)
    if check:
        stale = stale_files(expected)
        for path in stale:
            print(f"out of date: {path}")
        return 1 if stale else 0
    for path in write_files(expected):
        print(f"wrote {path}")
    return 0
