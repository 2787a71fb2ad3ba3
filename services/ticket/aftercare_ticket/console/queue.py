"""The queue: open tickets in the order their clocks fall due (breached first, as their
deadlines have passed), with the filters a desk works by. The ticket service picks the
tickets (kind, priority, state, assignee, region, channel, urgency); the SLA watcher puts them in
deadline order; without the watcher the queue is newest first, and says so."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from aftercare_ticket.adapters.queue_reads import QueueReads
from aftercare_ticket.console.access import guarded
from aftercare_ticket.console.rendering import Pages
from aftercare_ticket.console.session import ConsoleSessions
from aftercare_ticket.console.sla_client import SlaClient
from aftercare_ticket.domain.vocabulary import Channel, Kind, Priority, State

PAGE_SIZE = 50
MAX_PAGE = 400
CHOICES: Mapping[str, tuple[str, ...]] = {
    "kind": tuple(k.value for k in Kind),
    "priority": tuple(p.value for p in Priority),
    "state": tuple(s.value for s in State if s is not State.NEW),
    "channel": tuple(c.value for c in Channel),
}


def queue_filters(params: Mapping[str, str]) -> dict[str, Any]:
    """The filters asked for, each checked against its closed set (anything else is
    ignored, so a hand-edited address shows the unfiltered queue, not an error)."""
    found: dict[str, Any] = {
        name: params[name] for name, allowed in CHOICES.items() if params.get(name) in allowed
    }
    for name in ("assignee", "region"):
        typed = params.get(name, "").strip()
        if typed:
            found[name] = typed[:200]
    if params.get("urgent") == "1":
        found["urgent"] = True
    return found


def page_number(params: Mapping[str, str]) -> int:
    text = params.get("page", "0")
    return min(int(text), MAX_PAGE) if text.isdigit() and len(text) < 5 else 0


def add_queue_route(
    router: APIRouter,
    sessions: ConsoleSessions,
    pages: Pages,
    reads: QueueReads,
    sla: SlaClient,
) -> None:
    async def queue(request: Request) -> Response:
        session = guarded(sessions, request)
        if isinstance(session, Response):
            return session
        params = request.query_params
        filters = queue_filters(params)
        breached_only = params.get("breached") == "1"
        number = page_number(params)
        chosen = await reads.open_ids(filters) if filters else None
        ordered = await sla.queue(
            chosen, breached_only=breached_only, limit=PAGE_SIZE, offset=number * PAGE_SIZE
        )
        if ordered is None:
            found = await reads.newest_open(filters, PAGE_SIZE, number * PAGE_SIZE)
            items: list[tuple[Any, list[Any]]] = [(row, []) for row in found]
            total, unclocked = None, None
        else:
            rows = await reads.rows([item["ticket_id"] for item in ordered["items"]])
            items = [(rows[i], clocks) for i, clocks in _clocks_by_ticket(ordered) if i in rows]
            total = int(ordered["total"])
            unclocked = None if chosen is None or breached_only else len(chosen) - total
        alerts = await sla.open_alert_count()
        return pages.render(
            request,
            "queue.html.j2",
            session=session,
            items=items,
            total=total,
            unclocked=unclocked,
            sla_available=ordered is not None,
            filters=filters,
            breached_only=breached_only,
            choices=CHOICES,
            page=number,
            more=len(items) == PAGE_SIZE,
            alerts=alerts,
            query=_query_without_page(params),
        )

    router.add_api_route("/queue", queue, methods=["GET"])


def _query_without_page(params: Mapping[str, str]) -> str:
    kept = {k: v for k, v in params.items() if k != "page" and k != "lang"}
    return urlencode(kept)


def _clocks_by_ticket(ordered: Mapping[str, Any]) -> list[tuple[str, list[Any]]]:
    return [(item["ticket_id"], item["clocks"]) for item in ordered["items"]]
