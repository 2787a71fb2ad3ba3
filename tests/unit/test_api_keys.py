"""API keys: names for the audit trail, digests compared in constant time, and the
notifier's own least-privileged key."""

from __future__ import annotations

import pytest

from aftercare.auth import KeyRing, parse_api_keys
from aftercare_notifier.entrypoints.service import NotifierKeyProblem, notifier_api_key
from aftercare_system.settings import SystemSettings


def test_keys_carry_names_and_roles() -> None:
    keys = parse_api_keys("crm:s3cr3t=intake, callcentre:abc:def=engineer ,plain-key=reader")
    assert [(k.name, k.secret, k.role) for k in keys[:2]] == [
        ("crm", "s3cr3t", "intake"),
        ("callcentre", "abc:def", "engineer"),
    ]
    assert keys[2].name.startswith("key-")
    assert "plain-key" not in keys[2].name


@pytest.mark.parametrize("text", ["s3cr3t", "=admin", "s3cr3t=", "s3cr3t=superuser"])
def test_malformed_keys_are_refused_without_echoing_the_secret(text: str) -> None:
    with pytest.raises(ValueError, match="AFTERCARE_API_KEYS") as refused:
        parse_api_keys(text)
    assert "s3cr3t" not in str(refused.value)


def test_a_key_ring_identifies_by_digest() -> None:
    ring = KeyRing(parse_api_keys("crm:s3cr3t=intake,other=reader"))
    principal = ring.identify("s3cr3t")
    assert principal is not None
    assert (principal.key_name, principal.role) == ("crm", "intake")
    assert ring.identify("s3cr3") is None
    assert ring.identify("") is None


def test_the_notifier_takes_its_own_key_even_after_an_admin_key() -> None:
    settings = SystemSettings(api_keys="ops:adm=admin,notif:nk=notifier")
    assert notifier_api_key(settings) == "nk"


def test_the_notifier_refuses_an_admin_key_unless_told() -> None:
    settings = SystemSettings(api_keys="ops:adm=admin,notif:nk=notifier", notifier_api_key="adm")
    with pytest.raises(NotifierKeyProblem, match="admin key"):
        notifier_api_key(settings)
    allowed = settings.model_copy(update={"notifier_allow_admin_key": True})
    assert notifier_api_key(allowed) == "adm"


def test_the_notifier_needs_a_key_of_its_role() -> None:
    with pytest.raises(NotifierKeyProblem, match="notifier role"):
        notifier_api_key(SystemSettings(api_keys="ops:adm=admin"))


def test_the_development_keys_give_the_notifier_its_own() -> None:
    assert notifier_api_key(SystemSettings(api_keys=None)) == "dev-notifier-key"
