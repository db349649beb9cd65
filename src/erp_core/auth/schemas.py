"""Request and response bodies of auth, users and audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from erp_core.audit.service import action_label

Role = Literal["admin", "operator", "viewer"]
AnyRole = Literal["admin", "operator", "viewer", "customer"]


class LoginIn(BaseModel):
    # Not EmailStr: an operator account on an internal domain (.test, .local) must still log in.
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(BaseModel):
    # Absent: the browser's httpOnly session cookie is used (see docs/api-conventions.md).
    refresh_token: str | None = Field(default=None, min_length=10, max_length=512)


class LogoutIn(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=512)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: AnyRole
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


class UserCreate(BaseModel):
    email: EmailStr
    name: str = Field(default="", max_length=120)
    role: Role
    password: str | None = Field(
        default=None, min_length=12, max_length=256, description="Vacía: se genera una"
    )


class UserUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=120)
    role: Role | None = None
    disabled: bool | None = None


class UserCreated(UserOut):
    password: str | None = Field(default=None, description="Solo si se generó; se muestra una vez")


class PasswordOut(BaseModel):
    password: str


class LoggedOut(BaseModel):
    logged_out: bool = True


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: int | None
    actor: str | None
    action: str
    object_type: str | None
    object_id: str | None
    ip: str | None
    request_id: str | None
    success: bool
    details: dict[str, Any]
    action_label: str = Field(default="", description="La acción en español, para mostrar")

    @model_validator(mode="after")
    def _label(self) -> AuditOut:
        self.action_label = action_label(self.action)
        return self
