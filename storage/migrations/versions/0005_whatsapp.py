"""WhatsApp channel: pending webhook items, the 24-hour window, delivery status of outbox rows

Revision ID: 0005_whatsapp
Revises: 0004
Create Date: 2026-11-29 18:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_whatsapp"
down_revision = "0005_admin_setup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_pending",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("payload_enc", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_whatsapp_pending")),
        sa.UniqueConstraint("owner_id", name=op.f("uq_whatsapp_pending_owner_id")),
    )
    op.create_table(
        "whatsapp_window",
        sa.Column("address_index", sa.String(length=64), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("address_index", name=op.f("pk_whatsapp_window")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=12), nullable=True))
        batch_op.create_index("ix_outbox_external_id", ["external_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_external_id")
        batch_op.drop_column("delivery_status")
    op.drop_table("whatsapp_window")
    op.drop_table("whatsapp_pending")
