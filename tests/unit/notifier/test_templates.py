"""Customer updates render in both languages and say what the standard asks (F-2, F-4)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aftercare_notifier.adapters.templates import (
    LANGUAGES,
    TEMPLATE_NAMES,
    TemplateProblem,
    Templates,
)

TEMPLATES = Templates(ZoneInfo("Asia/Shanghai"))
TICKET = {
    "id": "T-7",
    "state": "acknowledged",
    "subject": "Yield dropped",
    "plan": "Remote log analysis",
    "risks": "Line may stop for an hour",
    "expected_resolution_at": "2026-03-03T10:00:00Z",
    "workaround": "Use the previous batch",
    "urgent": True,
}
EVENT = {
    "findings": "Contaminated batch",
    "description": "Use the previous batch",
    "appointment_at": "2026-03-03T02:00:00Z",
    "engineer": "Li Na",
    "solution": "Replaced the batch",
    "verification": {"method": "Yield test", "result": "92%"},
    "requested": "the process logs of line 3",
    "reason": "problem came back",
    "explanation": "outside the return window",
    "rule": "B-RETURN-WINDOW",
}


def test_every_template_exists_in_both_languages() -> None:
    TEMPLATES.check()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_each_update_says_where_it_stands_and_what_is_next(language: str, name: str) -> None:
    subject, body = TEMPLATES.render(
        language, name, {"ticket": TICKET, "contact_name": "Wang", "event": EVENT}
    )
    assert "T-7" in subject
    assert "\n" not in subject
    assert "Wang" in body
    where, nxt, expected = (
        ("Where it stands:", "What happens next:", "Expected resolution: 2026-03-03 18:00")
        if language == "en"
        else ("当前状态：", "下一步：", "预计解决时间：2026-03-03 18:00")
    )
    assert where in body
    assert nxt in body
    assert expected in body  # in the customer's time zone
    assert "Use the previous batch" in body  # F-4: the workaround


def test_the_acknowledgement_gives_plan_and_risks() -> None:
    _, english = TEMPLATES.render("en", "acknowledged", {"ticket": TICKET, "event": {}})
    assert "Our plan: Remote log analysis" in english
    assert "Risks we see: Line may stop for an hour" in english
    assert "treat it as urgent" in english
    _, chinese = TEMPLATES.render("zh-CN", "acknowledged", {"ticket": TICKET, "event": {}})
    assert "处理方案：Remote log analysis" in chinese
    assert "加急" in chinese


def test_an_unknown_language_falls_back_to_chinese() -> None:
    subject, _ = TEMPLATES.render("fr", "progress", {"ticket": TICKET, "event": {}})
    assert subject.startswith("服务请求")


def test_operators_override_one_template_and_keep_the_rest(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "progress.txt.j2").write_text("Still on it: {{ ticket.id }}\nHang on.\n")
    custom = Templates(ZoneInfo("Asia/Shanghai"), [tmp_path])
    assert custom.render("en", "progress", {"ticket": TICKET}) == ("Still on it: T-7", "Hang on.\n")
    assert custom.render("en", "closed", {"ticket": TICKET, "event": {}})[0].endswith("is closed")
    (tmp_path / "en" / "closed.txt.j2").write_text("{% if %}broken")
    with pytest.raises(TemplateProblem, match=r"en/closed.txt.j2"):
        Templates(ZoneInfo("Asia/Shanghai"), [tmp_path]).check()  # checked at start-up
