"""client aliases (a WhatsApp BSUID linked to the client first known by wa_id)

Revision ID: 0006_wa_client_aliases
Revises: 0005_whatsapp
Create Date: 2026-11-29 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_wa_client_aliases"
down_revision = "0005_i8scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_aliases",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("identity_index", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("channel", "identity_index", name=op.f("pk_client_aliases")),
    )
    op.create_index(
        op.f("ix_client_aliases_client_id"), "client_aliases", ["client_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_client_aliases_client_id"), table_name="client_aliases")
    op.drop_table("client_aliases")
