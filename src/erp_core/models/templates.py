"""Per-server Odoo templates (issue 15): a prepared database a tenant is cloned from.

One row per (server, language, country, module set): ``key`` adds the Odoo version the
database was built with, so a template built by an older Odoo never matches a server that
now runs a newer one (it turns ``stale`` and the next build reuses the row). ``db_name``
carries a reserved prefix (``erp_core.reconciliation.RESERVED_DATABASE_PREFIXES``) that no
hostname selects and the drift audit ignores. The template's administrator password is
stored encrypted (key rotation re-encrypts it: composition.register_hooks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.models.base import Base, Timestamps, check_in

TEMPLATE_STATES = ("building", "ready", "broken", "stale")


class OdooTemplate(Timestamps, Base):
    __tablename__ = "odoo_templates"
    __table_args__ = (
        CheckConstraint(check_in("state", TEMPLATE_STATES), name="state"),
        UniqueConstraint("odoo_server_id", "lang", "country", "modules_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    odoo_server_id: Mapped[int] = mapped_column(
        ForeignKey("odoo_servers.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(String(120), nullable=False)
    lang: Mapped[str] = mapped_column(String(16), nullable=False)
    # "" when the plan/tenant has no country (a NULL would defeat the unique constraint)
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="")
    modules: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, default=list)
    modules_hash: Mapped[str] = mapped_column(String(16), nullable=False)
    db_name: Mapped[str | None] = mapped_column(String(63))
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="building")
    odoo_version: Mapped[str | None] = mapped_column(String(32))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    built_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    admin_login: Mapped[str | None] = mapped_column(String(64))
    admin_password_enc: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    build_job_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True
    )


SPARE_STATES = ("preparing", "ready", "reserved")


class OdooSpare(Timestamps, Base):
    """A clone of a ready template, prepared ahead of any sign-up (issue 15): its own
    database (``__spare_…``, a reserved name), its administrator's password and its service
    user's, both random and stored encrypted. A create that finds one renames it to the
    tenant's name and only personalises it; the row disappears when a tenant claims it."""

    __tablename__ = "odoo_spares"
    __table_args__ = (
        CheckConstraint(check_in("state", SPARE_STATES), name="state"),
        Index("ix_odoo_spares_template_state", "template_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("odoo_templates.id", ondelete="CASCADE"), nullable=False
    )
    db_name: Mapped[str] = mapped_column(String(63), nullable=False, unique=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="preparing")
    admin_password_enc: Mapped[str] = mapped_column(Text, nullable=False)
    service_password_enc: Mapped[str] = mapped_column(Text, nullable=False)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL"), nullable=True
    )
    prepare_job_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True
    )
