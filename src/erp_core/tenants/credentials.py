"""Each tenant's Odoo service credential (issues 13/17/18).

The tenant admin's password is shown once and never kept, so after creation the control
plane cannot log into the tenant's Odoo as the admin. Provisioning therefore creates a
service user in every tenant database ("Jeturing Core (servicio)", internal user with
Settings rights, login ``erp-core-service@<BASE_DOMAIN>``) with a random password kept only
encrypted on the tenant row. Restore-as-copy, the primary custom domain and the usage reader
log in with it. Tenants created before it existed have none: what needs it says so in
Spanish (:data:`MISSING`) instead of guessing.

This module only names and decrypts the credential; the steps that create or rotate it live
in ``provisioning.operations`` (create) and ``backups.operations`` (restore as a copy).
"""

from __future__ import annotations

from dataclasses import dataclass

from erp_core.context import AppContext
from erp_core.drivers.base import SERVICE_LOGIN_PREFIX, ServiceUser
from erp_core.models import Tenant
from erp_core.security import generate_password

SERVICE_USER_NAME = "Jeturing Core (servicio)"
MISSING = (
    "Este tenant se creó antes de que la plataforma tuviera un usuario de servicio en su "
    "Odoo, así que no puede iniciar sesión en él por sí sola."
)


@dataclass(frozen=True)
class ServiceCredential:
    login: str
    password: str

    def __repr__(self) -> str:  # never print the password (logs, tracebacks)
        return f"ServiceCredential(login={self.login!r}, password='***')"


def service_login(ctx: AppContext) -> str:
    """The same login in every tenant database (each database is its own user table)."""
    return f"{SERVICE_LOGIN_PREFIX}{ctx.settings.base_domain}"


def new_service_user(ctx: AppContext) -> ServiceUser:
    """A service user with a fresh random password (32 characters)."""
    return {
        "login": service_login(ctx),
        "password": generate_password(32),
        "name": SERVICE_USER_NAME,
    }


def service_credential(ctx: AppContext, tenant: Tenant) -> ServiceCredential | None:
    """The tenant's stored credential, decrypted; ``None`` for a tenant that predates it."""
    if not tenant.service_login or not tenant.service_password_enc:
        return None
    return ServiceCredential(
        tenant.service_login, ctx.secret_box.decrypt(tenant.service_password_enc)
    )


def has_service_credential(tenant: Tenant) -> bool:
    return bool(tenant.service_login and tenant.service_password_enc)
