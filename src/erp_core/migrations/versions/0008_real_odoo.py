"""real odoo: each tenant's service credential (issues 13/17/18).

The control plane never keeps the tenant admin's password (it is shown once), so a per-tenant
Odoo service user ("Jeturing Core (servicio)", Settings rights) is created at provisioning;
its login and its password (Fernet-encrypted, rotated with the other secrets) live here.
Tenants created before this have NULL in both columns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("service_login", sa.String(length=254), nullable=True))
    op.add_column("tenants", sa.Column("service_password_enc", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("tenants", "service_password_enc")
    op.drop_column("tenants", "service_login")
