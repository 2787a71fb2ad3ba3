"""Events read back from the store: the same events, decoded without repeating the
checks their values passed when they came in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aftercare_ticket.domain.decide import raise_request
from aftercare_ticket.domain.events import decode, encode
from aftercare_ticket.domain.values import STORED, Contact
from aftercare_ticket.examples import context, raise_body


def test_a_raised_event_reads_back_equal_to_the_one_decided() -> None:
    event = raise_request("t-1", raise_body(), context())
    assert event.contact is not None
    assert event.contact.email
    assert decode(event.event_type, event.schema_version, encode(event)) == event


def test_an_address_is_checked_coming_in_and_trusted_read_back() -> None:
    with pytest.raises(ValidationError) as refused:
        Contact.model_validate({"name": "Wang", "email": "wang@"})
    assert refused.value.errors()[0]["loc"] == ("email",)
    stored = Contact.model_validate({"name": "Wang", "email": "wang@"}, context=STORED)
    assert stored.email == "wang@"
    with pytest.raises(ValidationError):  # the shape is still checked
        Contact.model_validate({"name": "Wang", "email": 42}, context=STORED)
