"""A development mail sink for ``make run`` when no SMTP server is configured.

It accepts every message on a local port and saves it as an ``.eml`` file, so the
customer updates and on-call emails of a local run can be read with any mail program
(or ``cat``). Never used when ``AFTERCARE_SMTP_HOST`` is set.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{next(self.counter):05d}.eml"
        path.write_bytes(envelope.original_content)
        return "250 Saved"


class MailSink:
    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.folder = folder
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(
            _SaveToFolder(self.folder), hostname=self.host, port=self.port
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
