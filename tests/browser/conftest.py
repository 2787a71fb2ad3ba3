"""The live system the browser tests drive, and the browser: Debian's Chromium. Under
``CI=true`` a missing browser fails the tests (``.ci/run`` installs it), as a missing
PostgreSQL does; elsewhere they are skipped with the reason."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aftercare.broker import free_port
from tests.conftest import IN_CI
from tests.e2e.test_oncall_paging import ONCALL
from tests.support.processes import AFTERCARE, stop, wait_until_up
from tests.support.receivers import SmtpSink, smtp_sink

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ENGINEER = "engineer-key-0123456789"
READER = "reader-key-0123456789"
ADMIN = "admin-key-0123456789"
SUPERVISOR = "supervisor-key-0123456789"


@dataclass
class LiveSystem:
    url: str
    smtp: SmtpSink

    def mails_about(self, ticket_id: str, to: str = "li@desk.example") -> list[str]:
        """Bodies of the messages to ``to`` that name ``ticket_id``."""
        found = []
        for recipients, message in self.smtp.messages:
            if to not in recipients:
                continue
            body = message.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            if ticket_id in text:
                found.append(str(text))
        return found


@pytest.fixture(autouse=True)
def _browser_present() -> None:
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + "; CI requires it")
        pytest.skip(message)


@pytest.fixture
async def live_system(tmp_path: Path) -> AsyncIterator[LiveSystem]:
    """``aftercare run`` as ``make run`` starts it, with keys for each role the tests
    play and a two-level on-call chain (Li Lei first)."""
    port = free_port()
    policy = tmp_path / "sla-policy.yaml"
    policy.write_text((ROOT / "deploy" / "sla-policy.yaml").read_text() + ONCALL)
    async with smtp_sink() as smtp:
        env = {
            **os.environ,
            "AFTERCARE_DATA_DIR": str(tmp_path),
            "AFTERCARE_HTTP_PORT": str(port),
            "AFTERCARE_BROKER_PORT": str(free_port()),
            "AFTERCARE_SLA_PORT": str(free_port()),
            "AFTERCARE_NOTIFIER_PORT": str(free_port()),
            "AFTERCARE_REPORTING_PORT": str(free_port()),
            "AFTERCARE_MAIL_SINK_PORT": str(free_port()),
            "AFTERCARE_SMTP_HOST": "127.0.0.1",
            "AFTERCARE_SMTP_PORT": str(smtp.port),
            "AFTERCARE_ONCALL_EMAIL": "oncall@desk.example",
            "AFTERCARE_SLA_POLICY": str(policy),
            "AFTERCARE_API_KEYS": (
                f"ops:{ADMIN}=admin,eng:{ENGINEER}=engineer,viewer:{READER}=reader,"
                f"lead:{SUPERVISOR}=supervisor,notifier:notifier-key-0123456789=notifier"
            ),
            "AFTERCARE_CONSOLE_API_KEY": SUPERVISOR,
            "AFTERCARE_LOG_LEVEL": "WARNING",
        }
        for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
            env.pop(name, None)
        process = await asyncio.create_subprocess_exec(
            AFTERCARE, "run", env=env, stdout=asyncio.subprocess.DEVNULL, cwd=ROOT
        )
        try:
            await wait_until_up(f"http://127.0.0.1:{port}/healthz", process, within=60)
            yield LiveSystem(f"http://127.0.0.1:{port}", smtp)
        finally:
            await stop(process)
