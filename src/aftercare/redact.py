"""Personal data out of error texts (P-PII): what a mail server or a library says when it
refuses often quotes the address it refused, and such texts end up in tables that every
role may read and in logs."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def mask_email(address: str) -> str:
    """``w***@example.com``: enough to see where it went, not who."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def redact(text: str, *known: str | None) -> str:
    """``text`` with every e-mail address masked and each ``known`` value (a name, a
    phone number) replaced by ``***``."""
    masked = _EMAIL.sub(lambda match: mask_email(match.group(0)), text)
    for value in sorted((v for v in known if v and len(v.strip()) > 1), key=len, reverse=True):
        masked = masked.replace(value, "***")
    return masked
