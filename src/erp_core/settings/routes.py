"""Settings endpoints: grouped list, update (admin), connection tests, Odoo's effective config."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from erp_core.api import Envelope, error_responses, ok
from erp_core.audit.service import record
from erp_core.dashboard.cache_hooks import invalidate_dashboard
from erp_core.deps import Admin, Ctx, Session, Viewer
from erp_core.settings import connection_tests, service
from erp_core.tenants.schemas import OdooServerOut
from erp_core.tenants.servers import list_with_status

router = APIRouter(prefix="/api/settings", tags=["settings"])


class SettingOut(BaseModel):
    key: str
    label: str
    description: str
    category: str
    value: str | None
    is_secret: bool
    source: Literal["database", "environment", "default"]
    editable: bool
    type: Literal["string", "int", "float", "bool", "url", "secret"]
    minimum: float | None = Field(default=None, description="Valor mínimo admitido (numéricos)")
    maximum: float | None = Field(default=None, description="Valor máximo admitido (numéricos)")


class CategoryOut(BaseModel):
    category: str
    label: str
    settings: list[SettingOut]


class SettingsOut(BaseModel):
    categories: list[CategoryOut]


class SettingIn(BaseModel):
    value: str | None = Field(max_length=4000, description="null: volver al valor del entorno")


class CheckOut(BaseModel):
    name: str
    ok: bool
    message: str


class TestOut(BaseModel):
    integration: str
    ok: bool
    checks: list[CheckOut]


class OdooCurrentOut(BaseModel):
    servers: list[OdooServerOut]
    dbfilter: str
    base_domain: str
    default_language: str
    default_country: str | None
    backup_dir: str


@router.get("", response_model=Envelope[SettingsOut], responses=error_responses(401))
async def get_settings(actor: Viewer, ctx: Ctx, session: Session) -> object:
    groups = await service.list_grouped(session, ctx)
    categories = [
        CategoryOut(
            category=g["category"],
            label=g["label"],
            settings=[SettingOut(**v.__dict__) for v in g["settings"]],
        )
        for g in groups
    ]
    return ok(SettingsOut(categories=categories))


@router.put(
    "/{key}", response_model=Envelope[SettingOut], responses=error_responses(401, 403, 404, 422)
)
async def put_setting(
    key: str, body: SettingIn, actor: Admin, ctx: Ctx, session: Session
) -> object:
    view = await service.update(session, ctx, key, body.value, actor.user_id)
    record(
        session,
        actor,
        "setting.update",
        "setting",
        key,
        {"reverted": body.value is None, "secret": view.is_secret},
    )

    await invalidate_dashboard(ctx)
    return ok(SettingOut(**view.__dict__))


@router.delete(
    "/{key}", response_model=Envelope[SettingOut], responses=error_responses(401, 403, 404)
)
async def restore_default(key: str, actor: Admin, ctx: Ctx, session: Session) -> object:
    """Restore the default: drop the stored override so the environment's value applies."""
    view = await service.restore_default(session, ctx, key)
    record(session, actor, "setting.delete", "setting", key, {"secret": view.is_secret})
    await invalidate_dashboard(ctx)
    return ok(SettingOut(**view.__dict__))


@router.post(
    "/test/{integration}",
    response_model=Envelope[TestOut],
    responses=error_responses(401, 403, 422),
)
async def test_integration(
    integration: Literal["stripe", "cloudflare", "proxmox", "odoo"],
    actor: Admin,
    ctx: Ctx,
    session: Session,
) -> object:
    await service.apply_overrides(ctx, session)
    checks = await connection_tests.run(ctx, integration)
    record(
        session,
        actor,
        "setting.test",
        "integration",
        integration,
        {"ok": all(c.ok for c in checks)},
    )
    return ok(
        TestOut(
            integration=integration,
            ok=bool(checks) and all(c.ok for c in checks),
            checks=[CheckOut(**c.__dict__) for c in checks],
        )
    )


@router.get(
    "/odoo/current", response_model=Envelope[OdooCurrentOut], responses=error_responses(401)
)
async def odoo_current(actor: Viewer, ctx: Ctx, session: Session) -> object:
    settings = ctx.settings
    return ok(
        OdooCurrentOut(
            servers=await list_with_status(session, ctx),
            dbfilter="^%d$",
            base_domain=settings.base_domain,
            default_language=settings.odoo_default_language,
            default_country=settings.odoo_default_country,
            backup_dir=str(settings.effective_backup_dir),
        )
    )
