"""The four OpenAPI documents say what the APIs really do, and their docs pages work offline."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from aftercare.auth import KeyRing
from aftercare.clock import SystemClock
from aftercare.db import create_engine
from aftercare.problems import PROBLEM_JSON
from aftercare_notifier.entrypoints.app import create_notifier_app
from aftercare_sla.entrypoints.app import create_sla_app
from aftercare_system.settings import SystemSettings
from aftercare_ticket.entrypoints.app import create_app

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
DOCUMENTS = [
    "openapi.json",
    "sla-openapi.json",
    "notifier-openapi.json",
    "reporting-openapi.json",
]


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_authentication_is_a_bearer_scheme(name: str) -> None:
    document = json.loads((SCHEMAS / name).read_text())
    schemes = document["components"]["securitySchemes"]
    assert [(s["type"], s["scheme"]) for s in schemes.values()] == [("http", "bearer")]
    secured = [op for path, _, op in operations(document) if not path.endswith("z")]
    assert secured
    assert all(op.get("security") for op in secured)
    for _, _, operation in operations(document):
        names = [p["name"].lower() for p in operation.get("parameters", [])]
        assert "authorization" not in names, "the key is a security scheme, not a parameter"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_error_is_documented_as_a_problem(name: str) -> None:
    document = json.loads((SCHEMAS / name).read_text())
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, operation in operations(document):
        responses = operation["responses"]
        expected = {"500", "503"}
        if operation.get("security"):
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if operation.get("requestBody"):
            expected |= {"413", "415", "422"}
        assert expected <= set(responses), (path, method)
        for status, response in responses.items():
            if status[0] in "45":
                content = response["content"]
                assert list(content) == [PROBLEM_JSON], (path, method, status)


def test_ticket_commands_document_conflicts() -> None:
    document = json.loads((SCHEMAS / "openapi.json").read_text())
    acknowledge = document["paths"]["/tickets/{ticket_id}/acknowledge"]["post"]
    assert "409" in acknowledge["responses"]


@pytest.mark.parametrize("service", ["ticket", "sla", "notifier"])
async def test_the_docs_pages_load_only_packaged_assets(service: str) -> None:
    engine = create_engine("sqlite+aiosqlite://")
    if service == "ticket":
        app = create_app(SystemSettings(), engine=engine)
    elif service == "sla":
        app = create_sla_app(engine, SystemClock(), KeyRing([]))
    else:
        app = create_notifier_app(engine, KeyRing([]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://offline"
    ) as client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
            urls += re.findall(r"""url: ?['"]([^'"]+)['"]""", html)
            assert urls, page
            for url in urls:
                assert url.startswith("/"), f"{page} loads {url} from elsewhere"
                asset = await client.get(url)
                assert asset.status_code == 200, url
                assert len(asset.content) > 100, url
            assert "fonts.googleapis" not in html
    await engine.dispose()
