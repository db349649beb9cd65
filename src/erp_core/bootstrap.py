"""First-start chores: the first admin, and the default Odoo server from the environment."""

from __future__ import annotations

import logging
import sys

from sqlalchemy import func, select

from erp_core.auth import service as auth_service
from erp_core.context import AppContext
from erp_core.models import User

log = logging.getLogger(__name__)


async def ensure_first_admin(ctx: AppContext) -> None:
    """Create the first admin when no user exists.

    With ERP_CORE_ADMIN_EMAIL/PASSWORD it uses them; otherwise it generates a password and
    prints it once on standard output — the one place a credential may appear.
    """
    settings = ctx.settings
    async with ctx.db.sessionmaker() as session:
        # Serialise concurrent first starts (several `serve` processes on one database).
        await session.execute(select(func.pg_advisory_xact_lock(727_001)))
        if await session.scalar(select(func.count(User.id))):
            return
        email = (settings.erp_core_admin_email or f"admin@{settings.base_domain}").lower()
        _user, generated = await auth_service.create_user(
            session, email, "Administrador", "admin", settings.erp_core_admin_password
        )
        await session.commit()
    log.info("bootstrap admin created", extra={"email": email})
    if generated:
        sys.stdout.write(
            "\n  Primer administrador creado / first admin created\n"
            f"    Correo electrónico: {email}\n"
            f"    Contraseña:         {generated}\n"
            "  (se muestra solo esta vez / shown only once)\n\n"
        )
        sys.stdout.flush()
