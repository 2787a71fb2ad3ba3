"""The README's walkthrough, run as written against a live server started like a user would."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.kafka import read_topic

ROOT = Path(__file__).resolve().parents[2]
AFTERCARE = Path(sys.executable).with_name("aftercare")


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough:start -->\n```sh\n(.*?)```", readme, re.S)
    assert block, "README lost its walkthrough block"
    return block.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, str, str, Path]]:
    """``aftercare run`` as ``make run`` starts it: (API URL, broker address, SLA URL)."""
    port, broker_port, sla_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(tmp_path),
        "AFTERCARE_HTTP_PORT": str(port),
        "AFTERCARE_BROKER_PORT": str(broker_port),
        "AFTERCARE_SLA_PORT": str(sla_port),
        "AFTERCARE_NOTIFIER_PORT": str(free_port()),
        "AFTERCARE_MAIL_SINK_PORT": str(free_port()),
        "AFTERCARE_NOTIFIER_COALESCE_SECONDS": "1",
    }
    env.pop("AFTERCARE_SMTP_HOST", None)
    env.pop("DATABASE_URL", None)
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.pop("AFTERCARE_API_KEYS", None)
    server = subprocess.Popen(
        [str(AFTERCARE), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert server.poll() is None, server.communicate()[0]
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not become ready in 30 s")
        yield url, f"127.0.0.1:{broker_port}", f"http://127.0.0.1:{sla_port}", tmp_path / "mail"
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
        assert "dev-admin-key" in output  # make run tells the newcomer the key
        assert "ticket.events.v1" in output  # and where the events go
        assert f"127.0.0.1:{sla_port}/sla/breaches" in output  # and where the SLA clocks are
        assert f"every email is saved in {tmp_path / 'mail'}/" in output  # and the mail


def test_readme_walkthrough_closes_a_complaint(live_server: tuple[str, str, str, Path]) -> None:
    assert shutil.which("curl"), "the walkthrough uses curl, as a newcomer would"
    url, bootstrap, sla_url, mailbox = live_server
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walkthrough()],
        env={**os.environ, "AFTERCARE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[1:5] == ["acknowledged", "diagnosed", "resolved", "closed"]
    assert lines[5:] == [
        "1 RequestRaised",
        "2 Acknowledged",
        "3 Diagnosed",
        "4 Resolved",
        "5 Revisited",
        "6 Closed",
    ]
    # The SLA watcher that `make run` started followed the ticket: the complainant was
    # contacted in time (T-COMPLAINT-CONTACT) and the revisit was done (T-COMPLAINT-REVISIT).
    ticket = lines[0].removeprefix("raised ")
    deadline = time.monotonic() + 30
    statuses: dict[str, str] = {}
    while time.monotonic() < deadline and statuses.get("T-COMPLAINT-REVISIT") != "met":
        answer = httpx.get(
            f"{sla_url}/sla/tickets/{ticket}",
            headers={"Authorization": "Bearer dev-admin-key"},
            timeout=2,
        )
        if answer.status_code == 200:
            statuses = {t["rule"]: t["status"] for t in answer.json()["targets"]}
        time.sleep(0.2)
    assert statuses.get("T-COMPLAINT-CONTACT") == "met", statuses
    assert statuses.get("T-COMPLAINT-REVISIT") == "met", statuses
    # The notifier told the customer (English, by email): the dev mail sink kept the mail.
    deadline = time.monotonic() + 30
    subjects: list[str] = []
    while time.monotonic() < deadline and not any("is closed" in s for s in subjects):
        subjects = [
            str(email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Subject"])
            for path in sorted(mailbox.glob("*.eml"))
        ]
        time.sleep(0.2)
    assert any(subject == f"Your request {ticket} is closed" for subject in subjects), subjects
    history = httpx.get(
        f"{url}/tickets/{ticket}/events", headers={"Authorization": "Bearer dev-admin-key"}
    ).json()["events"]
    published = asyncio.run(read_topic(bootstrap, "ticket.events.v1", expect=len(history)))
    assert [e.sequence for _, e in published] == [e["version"] for e in history]
    updates = [e for _, e in published if e.type.endswith(".ProgressReported.v1")]
    assert updates, "the notifier's updates are recorded on the ticket and published"
    assert [e.type.split(".")[3] for _, e in published if e not in updates] == [
        "RequestRaised",
        "Acknowledged",
        "Diagnosed",
        "Resolved",
        "Revisited",
        "Closed",
    ]
