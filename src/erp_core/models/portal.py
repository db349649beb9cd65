"""Customer portal (issue 16): one-time link tokens and the e-mail outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.models.base import Base, check_in, utcnow_column

TOKEN_PURPOSES = ("verify", "reset")
MAIL_STATUSES = ("queued", "sent", "failed")


class PortalToken(Base):
    """A one-time link token (e-mail verification or password reset).

    Only the SHA-256 of the token is stored: a database leak does not hand out working links.
    """

    __tablename__ = "portal_tokens"
    __table_args__ = (
        CheckConstraint(check_in("purpose", TOKEN_PURPOSES), name="purpose"),
        Index("ix_portal_tokens_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = utcnow_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MailOutbox(Base):
    """One e-mail to send, written in the transaction of the event that causes it.

    `idempotency_key` is unique per event (e.g. ``welcome:tenant:42``), so an event handled
    twice queues one message. The body is encrypted because a verification or reset link
    carries its one-time token.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint(check_in("status", MAIL_STATUSES), name="status"),
        Index("ix_mail_outbox_status", "status"),
        Index("ix_mail_outbox_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    to_addr: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_enc: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = utcnow_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
