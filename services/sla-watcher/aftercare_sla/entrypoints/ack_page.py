"""The page behind the link in every on-call page: what the engineer needs to decide in
one look (the alert, who was paged when, the ticket's clocks, where the ticket is) and
one button. Plain HTML, no script, nothing loaded from elsewhere; every value from the
log or the ticket is escaped. The link's token is in the address, so the page tells the
browser not to pass it on (no referrer) and not to be framed."""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse

from aftercare_sla.adapters.page_messages import person_name, said
from aftercare_sla.domain.alert_events import AlertAcknowledged, AlertEvent
from aftercare_sla.domain.alerting import OnCallAlert
from aftercare_sla.domain.escalation import OnCallPolicy

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:1rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem;"
    "border-bottom:1px solid #ddd}button{font-size:1.2rem;padding:.5rem 1.5rem}"
    ".breach{color:#b00020}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


class AckPage:
    def __init__(self, oncall: OnCallPolicy, ticket_url: str, zone: str) -> None:
        self.oncall = oncall
        self.ticket_url = ticket_url.rstrip("/")
        self.zone = ZoneInfo(zone)

    def alert(
        self,
        alert: OnCallAlert,
        history: Sequence[AlertEvent],
        clocks: Sequence[Any],
        action: str,
    ) -> HTMLResponse:
        e = html.escape
        ticket = f"{self.ticket_url}/tickets/{alert.ticket_id}"
        if alert.state == "acknowledged":
            button = f"<p>Acknowledged by {e(self._name(alert.acknowledged_by))}.</p>"
        elif alert.state == "resolved":
            button = f"<p>Resolved ({e(alert.resolution or '-')}).</p>"
        else:
            button = (
                f'<form method="post" action="{e(action)}">'
                '<button type="submit">Acknowledge</button></form>'
            )
        body = (
            f'<h1 class="{e(alert.urgency)}">{e(alert.rule)}: ticket {e(alert.ticket_id)}</h1>'
            f"<p>Urgency: {e(alert.urgency)}; state: {e(alert.state)}; group: "
            f"{e(alert.group)}</p>{button}"
            f'<p><a href="{e(ticket)}" rel="noreferrer">Open the ticket</a></p>'
            f"<h2>Clocks</h2>{self._clocks(clocks)}<h2>History</h2>{self._history(history)}"
        )
        return page(body, 200)

    def _clocks(self, clocks: Sequence[Any]) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(c.rule)}</td><td>{html.escape(c.status)}</td>"
            f"<td>{self._at(c.deadline)}</td>"
            f"<td>{'breached' if c.breached else ('warned' if c.warned else '')}</td></tr>"
            for c in clocks
        )
        return (
            f"<table><tr><th>Clock</th><th>Status</th><th>Deadline</th><th></th></tr>{rows}</table>"
        )

    def _history(self, history: Sequence[AlertEvent]) -> str:
        items = "".join(
            f"<li>{self._at(event.occurred_at)} — {html.escape(self._said(event))}</li>"
            for event in history
        )
        return f"<ol>{items}</ol>"

    def _said(self, event: AlertEvent) -> str:
        line = said(event, self._name)
        return f"{line} ({event.via})" if isinstance(event, AlertAcknowledged) else line

    def _name(self, person: str | None) -> str:
        return person_name(self.oncall, person)

    def _at(self, instant: datetime | None) -> str:
        if instant is None:
            return "-"
        return html.escape(instant.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S %Z"))


def page(body: str, status: int) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Aftercare on-call</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=HEADERS)
