"""Parsing the WhatsApp webhook shapes Meta documents, the signature, and outbound shapes."""

from __future__ import annotations

import pytest

from bot.senders import DeliveryFailed
from bot.whatsapp_sender import interactive, recipient
from handlers.whatsapp_client import keyword
from handlers.whatsapp_payload import CHOICE, OTHER, TEXT, Inbound, Status, parse, signature_ok
from tests.e2e.whatsapp_payloads import (
    MEDIA_KINDS,
    button_reply,
    envelope,
    list_reply,
    message_value,
    signed,
    status_value,
    text,
)

PHONE, BSUID = "6281234567890", "ID.1648738043044942"


def test_a_text_message_is_keyed_on_wa_id_without_a_user_id() -> None:
    [event] = parse(envelope(message_value(PHONE, text("halo"))))
    assert isinstance(event, Inbound)
    assert (event.kind, event.text, event.identity) == (TEXT, "halo", f"p:{PHONE}")
    assert event.address == f"to:{PHONE}"


def test_the_business_scoped_user_id_is_the_key_when_present() -> None:
    [event] = parse(envelope(message_value(PHONE, text("halo"), user_id=BSUID)))
    assert isinstance(event, Inbound)
    assert event.identity == f"u:{BSUID}" and event.address == f"to:{PHONE}"
    [only_bsuid] = parse(envelope(message_value(None, text("halo"), user_id=BSUID)))
    assert isinstance(only_bsuid, Inbound)
    assert only_bsuid.identity == f"u:{BSUID}" and only_bsuid.address == f"recipient:{BSUID}"


def test_button_and_list_replies_carry_their_ids() -> None:
    events = parse(
        envelope(
            message_value(PHONE, button_reply("consent:yes:id")),
            message_value(PHONE, list_reply("cat:hukum")),
        )
    )
    assert [(e.kind, e.choice) for e in events if isinstance(e, Inbound)] == [
        (CHOICE, "consent:yes:id"),
        (CHOICE, "cat:hukum"),
    ]


@pytest.mark.parametrize("kind", sorted(MEDIA_KINDS))
def test_everything_but_text_and_replies_is_other_and_carries_no_content(kind: str) -> None:
    [event] = parse(envelope(message_value(PHONE, MEDIA_KINDS[kind])))
    assert isinstance(event, Inbound)
    # Only a caption comes along: it is never kept, only screened for crisis words.
    caption = "foto" if kind == "image" else None
    assert (event.kind, event.text, event.choice) == (OTHER, caption, None)


def test_statuses_and_their_errors() -> None:
    events = parse(
        envelope(
            status_value("wamid.A", "sent", recipient=PHONE),
            status_value("wamid.A", "delivered", recipient=PHONE),
            status_value("wamid.B", "failed", recipient=PHONE, error_code=131047),
            status_value("wamid.C", "deleted", recipient=PHONE),
        )
    )
    assert events == [
        Status("wamid.A", "sent"),
        Status("wamid.A", "delivered"),
        Status("wamid.B", "failed", 131047),
    ]


def test_several_entries_and_changes_in_one_post_are_all_read() -> None:
    values = [message_value(f"62811000{n}", text(f"pesan {n}")) for n in range(5)]
    events = parse(envelope(*values, status_value("wamid.Z", "read", recipient=PHONE), entries=3))
    assert len(envelope(*values, entries=3)["entry"]) == 3
    assert [e.text for e in events if isinstance(e, Inbound)] == [f"pesan {n}" for n in range(5)]
    assert events[-1] == Status("wamid.Z", "read")


@pytest.mark.parametrize(
    "junk",
    [None, [], "x", {"entry": "x"}, {"entry": [{"changes": [{"value": []}]}]},
     {"entry": [{"changes": [{"field": "account_update", "value": {"messages": [{}]}}]}]},
     envelope({"messages": [{"id": "wamid.x", "type": "text"}]})],
)  # fmt: skip
def test_malformed_or_foreign_bodies_yield_nothing(junk: object) -> None:
    assert parse(junk) == []


def test_the_signature_is_an_hmac_of_the_raw_body() -> None:
    body, headers = signed(envelope(message_value(PHONE, text("halo"))), "app-secret")
    header = headers["X-Hub-Signature-256"]
    assert signature_ok(body, header, b"app-secret")
    assert not signature_ok(body, header, b"other-secret")
    assert not signature_ok(body + b" ", header, b"app-secret")
    assert not signature_ok(body, None, b"app-secret")
    assert not signature_ok(body, header.removeprefix("sha256="), b"app-secret")
    assert not signature_ok(body, "sha256=", b"app-secret")


def test_keywords_are_case_insensitive_in_both_languages_and_accept_a_slash() -> None:
    assert keyword(" Status ") == keyword("/status") == keyword("STATUS") == "status"
    assert keyword("hapus") == keyword("DELETE") == "erase"
    assert keyword("Selesai") == keyword("done") == "close"
    assert keyword("BAHASA") == keyword("language") == "language"
    assert keyword("saya mau hapus data") is None


def test_three_short_choices_are_buttons_and_more_are_a_list() -> None:
    two = interactive("Setuju?", [("Saya setuju", "consent:yes:id"), ("Tidak", "consent:no:id")])
    assert two["interactive"]["type"] == "button"
    assert len(two["interactive"]["action"]["buttons"]) == 2
    long_title = interactive("Hapus?", [("Yes, delete everything", "erase:yes")])
    assert long_title["interactive"]["type"] == "list"
    five = interactive("Topik?", [(f"Keluarga dan rumah tangga {n}", f"cat:{n}") for n in range(5)])
    rows = five["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == 5 and all(len(r["title"]) <= 24 for r in rows)
    assert rows[0]["description"] == "Keluarga dan rumah tangga 0"


def test_addresses_are_a_phone_number_or_a_business_scoped_id() -> None:
    assert recipient(f"to:{PHONE}") == {"recipient_type": "individual", "to": PHONE}
    assert recipient(f"recipient:{BSUID}")["recipient"] == BSUID
    with pytest.raises(DeliveryFailed):
        recipient("12345")
