"""``GET /oncall/now`` (issue: on-call paging, schedules): who a group's chain reaches at
an instant, past and future, from the policy file; colleagues' contact details only for
the roles that page people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.auth import KeyRing, parse_api_keys
from aftercare.clock import FixedClock
from aftercare_sla.adapters.policy_file import parse_policy
from aftercare_sla.entrypoints.app import create_sla_app
from tests.unit.sla.test_policy import MINIMAL

POLICY = parse_policy(
    MINIMAL
    + """
paging:
  oncall: []
oncall:
  people:
    li: {name: Li Lei, email: li@desk.example, dingtalk: li-001}
    wang: {name: Wang Fang, phone: "+86 138 0000 0000"}
    lead: {name: Han Meimei, feishu: ou_lead}
    zhao: {name: Zhao Qiang}
  schedules:
    engineers:
      layers:
        - {every: weekly, handoff: "09:00", handoff_day: monday, time_zone: Asia/Shanghai,
           start: 2026-03-02, participants: [li, wang]}
      overrides:
        - {person: zhao, start: "2026-04-04T00:00:00+08:00", end: "2026-04-07T00:00:00+08:00",
           reason: Qingming}
  escalation:
    oncall:
      levels:
        - {notify: [{schedule: engineers}], wait: 10m}
        - {notify: [{person: lead}, {channels: true}], wait: 20m}
      repeat: 2
""",
    "oncall.yaml",
    {},
)
KEYS = KeyRing(parse_api_keys("r=reader,e=engineer,desk:s=supervisor"))


@pytest.fixture
async def api(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_sla_app(engine, clock, KEYS, oncall=POLICY.oncall)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sla") as client:
        yield client


async def ask(api: httpx.AsyncClient, key: str, **params: str) -> httpx.Response:
    return await api.get("/oncall/now", params=params, headers={"Authorization": f"Bearer {key}"})


def first_level(answer: httpx.Response) -> dict[str, object]:
    assert answer.status_code == 200, answer.text
    recipient: dict[str, object] = answer.json()["levels"][0]["recipients"][0]
    return recipient


async def test_the_rotation_hands_over_at_nine_in_shanghai_past_and_future(
    api: httpx.AsyncClient,
) -> None:
    before = first_level(await ask(api, "e", group="oncall", at="2026-03-09T08:59:00+08:00"))
    after = first_level(await ask(api, "e", group="oncall", at="2026-03-09T01:00:00Z"))
    assert before["person"]["id"] == "li"  # type: ignore[index]
    assert after["person"]["id"] == "wang"  # type: ignore[index]
    assert after["since"] == "2026-03-09T09:00:00+08:00"
    assert after["until"] == "2026-03-16T09:00:00+08:00"


async def test_an_override_wins_and_the_whole_chain_is_shown(api: httpx.AsyncClient) -> None:
    answer = await ask(api, "e", group="oncall", at="2026-04-05T03:00:00+08:00")
    covered = first_level(answer)
    assert (covered["person"]["id"], covered["source"]) == ("zhao", "override")  # type: ignore[index]
    body = answer.json()
    assert body["repeat"] == 2
    second = body["levels"][1]
    assert second["wait"] == "20m"
    assert [r["kind"] for r in second["recipients"]] == ["person", "channels"]
    assert second["recipients"][0]["person"]["contacts"]["feishu"] == "ou_lead"


async def test_a_reader_sees_names_and_no_contact_details(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    engineer = first_level(await ask(api, "e", group="oncall"))  # now: the clock's Monday
    reader = first_level(await ask(api, "r", group="oncall"))
    assert engineer["person"]["contacts"]["email"] == "li@desk.example"  # type: ignore[index]
    assert reader["person"] == {"id": "li", "name": "Li Lei", "contacts": None}
    assert "li@desk.example" not in (await ask(api, "r", group="oncall")).text


async def test_unknown_groups_bad_instants_and_strangers_get_clear_problems(
    api: httpx.AsyncClient,
) -> None:
    unknown = await ask(api, "e", group="sales")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert "oncall" in unknown.json()["detail"]
    naive = await ask(api, "e", group="oncall", at="2026-04-05T03:00:00")
    assert naive.status_code == 422
    assert naive.headers["content-type"] == "application/problem+json"
    assert (await ask(api, "e", group="x" * 65)).status_code == 422
    assert (await api.get("/oncall/now", params={"group": "oncall"})).status_code == 401


COVER = {
    "person": "lead",
    "start": "2026-05-01T00:00:00+08:00",
    "end": "2026-05-06T00:00:00+08:00",
    "reason": "Labour Day",
}


async def enter(api: httpx.AsyncClient, key: str, body: dict[str, str]) -> httpx.Response:
    return await api.post(
        "/oncall/schedules/engineers/overrides",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
    )


async def test_an_override_entered_over_the_api_wins_until_removed(
    api: httpx.AsyncClient,
) -> None:
    entered = await enter(api, "s", COVER)
    assert entered.status_code == 201, entered.text
    override = entered.json()
    assert override["created_by"] == "desk"  # the key's name, for the audit trail
    during = first_level(await ask(api, "e", group="oncall", at="2026-05-03T12:00:00+08:00"))
    assert (during["person"]["id"], during["source"]) == ("lead", "override")  # type: ignore[index]
    listed = await api.get(
        "/oncall/schedules/engineers/overrides", headers={"Authorization": "Bearer r"}
    )
    assert [o["override_id"] for o in listed.json()] == [override["override_id"]]
    gone = await api.delete(
        f"/oncall/overrides/{override['override_id']}", headers={"Authorization": "Bearer s"}
    )
    assert gone.status_code == 204
    after = first_level(await ask(api, "e", group="oncall", at="2026-05-03T12:00:00+08:00"))
    assert after["source"] == "layer 1"
    again = await api.delete(
        f"/oncall/overrides/{override['override_id']}", headers={"Authorization": "Bearer s"}
    )
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "complaint"),
    [
        ({"person": "nobody"}, 422, "unknown-person"),
        ({"end": "2026-04-30T00:00:00+08:00"}, 422, "override-range"),
        ({"end": "2026-08-03T00:00:00+08:00"}, 422, "override-range"),
        ({"start": "2026-05-01T00:00:00"}, 422, "validation"),
        ({"colour": "red"}, 422, "validation"),
    ],
)
async def test_an_override_that_cannot_be_followed_is_refused(
    api: httpx.AsyncClient, change: dict[str, str], status: int, complaint: str
) -> None:
    refused = await enter(api, "s", COVER | change)
    assert refused.status_code == status
    assert refused.headers["content-type"] == "application/problem+json"
    assert complaint in refused.json()["type"]


async def test_only_admins_and_supervisors_change_schedules(api: httpx.AsyncClient) -> None:
    assert (await enter(api, "e", COVER)).status_code == 403
    assert (await enter(api, "r", COVER)).status_code == 403
    unknown = await api.post(
        "/oncall/schedules/nights/overrides", json=COVER, headers={"Authorization": "Bearer s"}
    )
    assert unknown.status_code == 404
