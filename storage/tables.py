"""The schema. Columns ending in `_enc` hold AES-GCM tokens; `_index` columns hold blind indexes.

Nothing here holds message text, a name, a username, a phone number or a chat id in
plaintext: the sealing helper (storage/sealing.py) is the only way values get in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

ID = 36


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed: datetime = value
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _at(name: str, *, nullable: bool = True) -> Column[datetime]:
    return Column(name, UtcDateTime(), nullable=nullable)


data_keys = Table(
    "data_keys",
    metadata,
    Column("owner_id", String(ID), primary_key=True),  # a case, client or staff id
    Column("wrapped", LargeBinary, nullable=False),
    Column("kek_version", Integer, nullable=False, index=True),
    _at("created_at", nullable=False),
)

clients = Table(
    "clients",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("identity_index", String(64), nullable=False),
    Column("pseudonym", String(20), nullable=False),
    Column("locale", String(5), nullable=False),
    Column("consent_version", String(40), nullable=False),
    _at("consented_at", nullable=False),
    Column("reply_address_enc", LargeBinary, nullable=False),
    _at("created_at", nullable=False),
    UniqueConstraint("channel", "identity_index", name="uq_clients_identity"),
)

partners = Table(
    "partners",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)

queues = Table(
    "queues",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("partner_id", String(ID), ForeignKey("partners.id"), nullable=False),
    Column("categories", String(200), nullable=False),  # comma-separated category values
    Column("general_desk", Boolean, nullable=False, default=False),
    Column("position", Integer, nullable=False, default=0),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("code", String(10), nullable=False, unique=True),
    Column("client_id", String(ID), ForeignKey("clients.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("category", String(20), nullable=False),
    Column("crisis", Boolean, nullable=False, default=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("queue_id", String(ID), ForeignKey("queues.id"), nullable=True),
    Column("assignee_id", String(ID), nullable=True),
    _at("opened_at", nullable=False),
    _at("first_response_at"),
    _at("resolved_at"),
    _at("closed_at"),
    _at("purged_at"),
    _at("paged_at"),
    _at("claimed_at"),
    _at("reminded_at"),
    Column("gender", String(20), nullable=True),
    Column("age_band", String(10), nullable=True),
    Column("employment", String(10), nullable=True),
    Column("triage_confidence", Float, nullable=True),
    Index("ix_cases_queue_status", "queue_id", "status"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("direction", String(10), nullable=False),
    Column("author_id", String(ID), nullable=True),
    Column("body_enc", LargeBinary, nullable=False),
    _at("created_at", nullable=False),
)

staff = Table(
    "staff",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("display_name", String(60), nullable=False),
    Column("role", String(20), nullable=False),
    Column("queue_ids", Text, nullable=False),  # comma-separated queue ids
    Column("on_duty", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("telegram_index", String(64), nullable=True, unique=True),
    Column("telegram_chat_enc", LargeBinary, nullable=True),
    _at("created_at", nullable=False),
    _at("last_active_at"),
)

invites = Table(
    "invites",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("code_index", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("queue_ids", Text, nullable=False),
    _at("expires_at", nullable=False),
    _at("created_at", nullable=False),
    _at("used_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("rating", Integer, nullable=False),
    Column("comment_enc", LargeBinary, nullable=True),
    _at("created_at", nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("recipient_kind", String(10), nullable=False),
    Column("recipient_id", String(ID), nullable=False),
    Column("client_id", String(ID), nullable=True, index=True),
    Column("case_id", String(ID), nullable=True),
    Column("key_owner", String(ID), nullable=False),  # whose data key seals the payload
    Column("payload_enc", LargeBinary, nullable=True),  # emptied once sent
    Column("address_enc", LargeBinary, nullable=True),  # only for direct replies
    Column("urgent", Boolean, nullable=False, default=False),
    Column("status", String(10), nullable=False),  # pending, sending, sent, dead
    Column("attempts", Integer, nullable=False, default=0),
    _at("next_attempt_at", nullable=False),
    Column("lease_owner", String(40), nullable=True),
    _at("lease_until"),
    Column("last_error", String(60), nullable=True),
    Column("external_id", String(80), nullable=True),  # the channel's message id, once sent
    Column("delivery_status", String(12), nullable=True),  # WhatsApp: delivered, read, failed
    _at("created_at", nullable=False),
    _at("sent_at"),
    Index("ix_outbox_ready", "status", "next_attempt_at"),
    Index("ix_outbox_external_id", "external_id"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(20), nullable=False),
    Column("external_id", String(120), nullable=False),
    _at("received_at", nullable=False),
    _at("done_at"),  # unset while being handled: a worker killed meanwhile leaves it unset
    UniqueConstraint("channel", "external_id", name="uq_inbox_update"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("actor_id", String(ID), nullable=False, index=True),
    Column("action", String(40), nullable=False),
    Column("case_code", String(10), nullable=True, index=True),
    Column("purpose", String(200), nullable=True),
    _at("at", nullable=False),
    Column("mac", String(64), nullable=False),
)

# One row: the chain's length and last link, MACed, so a deleted tail is noticed too.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("mac", String(64), nullable=False),
    Column("head_mac", String(64), nullable=False),
)

# Conversation state of the bots (aiogram FSM), keyed by a blind index of bot, chat and user.
bot_state = Table(
    "bot_state",
    metadata,
    Column("key_index", String(64), primary_key=True),
    Column("state", String(100), nullable=True),
    Column("data", Text, nullable=False, default="{}"),
    _at("updated_at", nullable=False),
)

# Web chat: what the outbox delivered to a browser session, sealed under the mailbox's key.
# The mailbox id is random (the web client's reply address) and says nothing about anyone.
web_mailbox = Table(
    "web_mailbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("mailbox_id", String(ID), nullable=False, index=True),
    Column("payload_enc", LargeBinary, nullable=False),
    _at("created_at", nullable=False),
)

# Staff console logins (argon2 hashes); the username is kept only as a blind index.
staff_logins = Table(
    "staff_logins",
    metadata,
    Column("staff_id", String(ID), ForeignKey("staff.id"), primary_key=True),
    Column("username_index", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    _at("locked_until"),
    _at("password_changed_at", nullable=False),
)

# Staff console sessions: only a hash of the session cookie is stored.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_index", String(64), primary_key=True),
    Column("staff_id", String(ID), ForeignKey("staff.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    _at("created_at", nullable=False),
    _at("expires_at", nullable=False),
)

# Admin setup that overrides the embedded defaults (retention, k, a managed category
# mapping, the last purge run): small JSON values by key, never case content.
admin_settings = Table(
    "admin_settings",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("value", Text, nullable=False),
    _at("updated_at", nullable=False),
)

# WhatsApp webhook items waiting to be processed (the POST answers at once), each sealed under
# a data key of its own that is destroyed once it is handled.
whatsapp_pending = Table(
    "whatsapp_pending",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", String(ID), nullable=False, unique=True),
    Column("payload_enc", LargeBinary, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    _at("received_at", nullable=False),
    _at("claimed_until"),
)

# WhatsApp's 24-hour customer-service window: when an ASN last wrote, keyed by a blind index
# of the reply address (a time is not personal content); when the template last invited them.
whatsapp_window = Table(
    "whatsapp_window",
    metadata,
    Column("address_index", String(64), primary_key=True),
    _at("last_inbound_at"),
    _at("invited_at"),
)

# A second identity of the same client (WhatsApp: the BSUID next to the wa_id it was first
# known by), as a blind index in the client's own namespace; never the raw id.
client_aliases = Table(
    "client_aliases",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("identity_index", String(64), primary_key=True),
    Column("client_id", String(ID), nullable=False, index=True),
)
