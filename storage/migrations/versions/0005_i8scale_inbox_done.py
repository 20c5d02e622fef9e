"""inbox: when an update's handling finished (a worker killed mid-update is retried)

Revision ID: 0005_i8scale
Revises: 0004
Create Date: 2026-11-29 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_i8scale"
down_revision = "0005_whatsapp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE inbox SET done_at = received_at")


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("done_at")
