"""The published contracts: event schemas, AsyncAPI and OpenAPI match the code (issue 3).

Every event type the domain can emit is produced by real decisions, put through the
same function the relay uses, and validated against its schema file on disk.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from aftercare.eventstore import RecordedEvent
from aftercare.schemas import stale_files
from aftercare_system.contracts import generated_contracts
from aftercare_ticket.adapters.publishing import ticket_cloudevent
from aftercare_ticket.domain import commands as cmd
from aftercare_ticket.domain.decide import decide
from aftercare_ticket.domain.events import EVENT_TYPES, TicketEvent, encode
from aftercare_ticket.domain.personal import PERSONAL_PATHS
from aftercare_ticket.domain.ticket import Ticket, apply
from aftercare_ticket.domain.vocabulary import Kind, State
from aftercare_ticket.examples import (
    T0,
    WALKS,
    context,
    in_state,
    raise_body,
    raised,
    run,
    sample,
    step_time,
    walk_command,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
FORMATS = FormatChecker()


def _emit(ticket: Ticket, command: cmd.Command, at: datetime | None = None) -> list[TicketEvent]:
    return decide(ticket, command, context(at))


def emitted_events() -> list[TicketEvent]:
    """Events from every allowed command in every state, plus the richer variants."""
    from aftercare_ticket.domain.decide import raise_request

    events: list[TicketEvent] = [raise_request("t-1", raise_body(), context(now=T0))]
    for state in State:
        if state is State.NEW:
            continue
        ticket = in_state(state)
        for name in ticket.allowed_commands:
            if (state, name) == (State.CLOSED, "escalate"):  # B-DISPUTE: only a dispute
                events += _emit(ticket, cmd.Escalate(level="mediation", reason="Disputed"))
                continue
            events += _emit(ticket, sample(name))
    for walk, (kind, steps) in WALKS.items():  # every kind's own steps
        ticket = raised(kind)
        for number, name in enumerate(steps):
            at = step_time(number)
            decided = _emit(ticket, walk_command(walk, name, kind, at), at)
            events += decided
            ticket = apply(ticket, decided)
    later = T0 + timedelta(days=3)
    # A repair outside warranty: diagnosed with a fee quote (B-WARRANTY-SCOPE).
    repair = run(
        raised(Kind.REPAIR, product={"model": "W200", "purchase_date": date(2020, 1, 1)}),
        sample("acknowledge", Kind.REPAIR),
    )
    events += _emit(
        repair,
        cmd.Diagnose.model_validate(
            {
                "findings": "Worn bearing",
                "method": "on_site",
                "fault_cause": "misuse",
                "on_site_arrived_at": T0 + timedelta(minutes=50),
                "fee_quote": {"fee": {"amount": "120.00", "currency": "CNY"}, "process": "Pay"},
            }
        ),
    )
    # A dissatisfied revisit reopens (F-7); a visit names its site (personal data).
    resolved = in_state(State.RESOLVED)
    events += _emit(resolved, cmd.Revisit.model_validate({"satisfaction": 2, "comments": "No"}))
    acknowledged = in_state(State.ACKNOWLEDGED)
    events += _emit(
        acknowledged,
        cmd.ScheduleVisit.model_validate(
            {"appointment_at": later, "engineer": "li.na", "site": "3 Road, Suzhou"}
        ),
    )
    return events


def recorded(event: TicketEvent, version: int = 1) -> RecordedEvent:
    return RecordedEvent(
        global_position=version,
        stream_id=event.ticket_id,
        version=version,
        event_id=uuid4(),
        type=event.event_type,
        schema_version=event.schema_version,
        data=encode(event),
        metadata={},
        recorded_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
    )


def schema_of(dataschema: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (SCHEMAS / "events" / dataschema.rsplit("/", 1)[1]).read_text(encoding="utf-8")
    )
    return document


EMITTED = emitted_events()


def test_every_event_type_is_emitted_by_some_decision() -> None:
    assert {event.event_type for event in EMITTED} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", EMITTED, ids=lambda e: e.event_type)
def test_published_payload_validates_against_its_schema(event: TicketEvent) -> None:
    wire = ticket_cloudevent(recorded(event))
    assert wire is not None
    assert wire.dataschema is not None
    schema = schema_of(wire.dataschema)
    assert schema["$id"] == wire.dataschema
    Draft202012Validator(schema, format_checker=FORMATS).validate(wire.data)
    Draft7Validator(schema, format_checker=FORMATS).validate(wire.data)


def test_schemas_reject_personal_data_on_the_wire() -> None:
    """P-PII: the contact is not part of the published shape, so leaking it is invalid."""
    event = next(e for e in EMITTED if e.event_type == "RequestRaised")
    schema = schema_of(f"x/{event.event_type}.v1.json")
    assert "contact" not in schema["properties"]
    assert schema["x-personal-data-removed"] == ["contact"]
    with pytest.raises(ValidationError, match="contact"):
        Draft202012Validator(schema).validate(encode(event))


def test_schemas_reject_a_malformed_payload() -> None:
    schema = schema_of("x/Revisited.v1.json")
    payload = {"ticket_id": "t-1", "occurred_at": "2026-03-02T10:00:00Z", "satisfied": True}
    with pytest.raises(ValidationError, match="satisfaction"):
        Draft202012Validator(schema).validate({**payload, "satisfaction": 9})
    with pytest.raises(ValidationError, match="'satisfaction' is a required property"):
        Draft202012Validator(schema).validate(payload)


@pytest.mark.parametrize("path", sorted((SCHEMAS / "events").glob("*.json")), ids=lambda p: p.name)
def test_each_schema_is_valid_in_draft_2020_12_and_draft_07(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    Draft7Validator.check_schema(schema)
    text = path.read_text(encoding="utf-8")
    assert "$defs" not in text, "definitions must be inlined for draft-07 tools"
    assert "#/" not in text, "refs must be inlined for draft-07 tools"
    assert schema["$id"].endswith("/" + path.name)


def test_personal_fields_are_declared_in_the_schema_not_in_code() -> None:
    """The strip list is read from ``x-personal-data`` markers on the models."""
    assert PERSONAL_PATHS["RequestRaised"] == [("contact",)]
    assert PERSONAL_PATHS["OnSiteVisitScheduled"] == [("site",)]
    assert all(
        not paths
        for name, paths in PERSONAL_PATHS.items()
        if name not in {"RequestRaised", "OnSiteVisitScheduled"}
    )


def test_files_under_schemas_are_what_the_code_generates() -> None:
    """Run ``.venv/bin/aftercare schemas`` after changing an event, a route or a topic."""
    expected = generated_contracts(SCHEMAS)
    stale = [str(path.relative_to(ROOT)) for path in stale_files(expected)]
    assert not stale, f"regenerate with `aftercare schemas`: {stale}"
    on_disk = {path for path in SCHEMAS.rglob("*") if path.is_file()}
    assert on_disk == set(expected), "schemas/ holds files the code no longer defines"


def _resolve(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_asyncapi_parses_and_references_every_schema() -> None:
    document = yaml.safe_load((SCHEMAS / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert document["asyncapi"] == "3.0.0"
    refs = _refs(document)
    for ref in refs:
        if ref.startswith("#/"):
            _resolve(document, ref)  # raises KeyError when dangling
        else:
            assert (SCHEMAS / ref).is_file(), ref
    referenced = {(SCHEMAS / ref).resolve() for ref in refs if not ref.startswith("#")}
    assert referenced == {path.resolve() for path in (SCHEMAS / "events").glob("*.json")}
    channel = document["channels"]["ticketEvents"]
    assert channel["address"] == "ticket.events.v1"
    assert set(channel["messages"]) == set(EVENT_TYPES)
    for name in EVENT_TYPES:
        message = document["components"]["messages"][name]
        assert message["name"] == f"com.aftercare.ticket.{name}.v1"
        trait = _resolve(document, message["traits"][0]["$ref"])
        assert {"ce_id", "ce_type", "ce_subject", "ce_sequence"} <= set(
            trait["headers"]["properties"]
        )
    operation = document["operations"]["publishTicketEvents"]
    assert operation["action"] == "send"
    assert len(operation["messages"]) == len(EVENT_TYPES)
    sla = document["channels"]["slaEvents"]
    assert sla["address"] == "ticket.sla.v1"
    alerts = {"AlertTriggered", "AlertUrgencyRaised", "AlertEscalated", "AlertAcknowledged"}
    alerts |= {"AlertRenotified", "AlertReassigned", "AlertResolved"}
    assert set(sla["messages"]) == {"SlaWarning", "SlaBreached", "SlaMet"} | alerts
    assert document["components"]["messages"]["AlertEscalated"]["name"] == (
        "com.aftercare.sla.AlertEscalated.v1"
    )
    assert document["components"]["messages"]["SlaBreached"]["name"] == (
        "com.aftercare.sla.SlaBreached.v1"
    )
