"""Stripe: every subscription (one paginated list) vs tenants.

A subscription names its tenant in ``metadata.tenant_id`` (set when provisioning creates
it) or through our ``subscriptions`` row. Flagged: one still charging (active, trialing,
past_due, unpaid) a deleted tenant, or an active/trialing one of a suspended tenant; and
an active tenant on a paid plan with no charging subscription at all.
"""

from __future__ import annotations

from typing import Any, cast

from erp_core.context import AppContext
from erp_core.drivers.factory import gateway_for
from erp_core.drivers.stripe import StripeGateway, list_subscriptions
from erp_core.reconciliation.checks.base import Observation, Snapshot

CHARGING_DELETED = "charging_inactive_tenant"
MISSING_SUBSCRIPTION = "missing_subscription"
CHARGING = frozenset({"active", "trialing", "past_due", "unpaid"})


def subscription_resource(subscription_id: str) -> str:
    return f"stripe:{subscription_id}"


def tenant_subscription_resource(tenant_id: int) -> str:
    return f"stripe-tenant:{tenant_id}"


class StripeSubscriptionsCheck:
    source = "stripe"

    def configured(self, ctx: AppContext) -> bool:
        return ctx.settings.stripe_configured

    async def observe(self, ctx: AppContext, snapshot: Snapshot) -> list[Observation]:
        gateway = gateway_for(ctx)
        assert gateway is not None
        subs: list[dict[str, Any]] = []
        try:
            async for sub in list_subscriptions(cast(StripeGateway, gateway), status="all"):
                subs.append(dict(sub))
        finally:
            await gateway.aclose()
        found: list[Observation] = []
        paying: set[int] = set()
        for sub in subs:
            sub_id, status = str(sub.get("id")), str(sub.get("status"))
            if status not in CHARGING:
                continue
            tenant_id = _tenant_of(sub, snapshot)
            tenant = snapshot.tenants.get(tenant_id) if tenant_id is not None else None
            if tenant is None:
                continue
            paying.add(tenant.id)
            stray = tenant.status == "deleted" or (
                tenant.status == "suspended" and status in ("active", "trialing")
            )
            if stray:
                state = "eliminado" if tenant.status == "deleted" else "suspendido"
                found.append(
                    Observation(
                        CHARGING_DELETED,
                        subscription_resource(sub_id),
                        f"La suscripción {sub_id} sigue cobrando al tenant «{tenant.subdomain}», "
                        f"que está {state}.",
                        tenant_id=tenant.id,
                        detail={"subscription_id": sub_id, "status": status,
                                "tenant_status": tenant.status},
                    )
                )  # fmt: skip
        for tenant in snapshot.tenants.values():
            plan = snapshot.plans.get(tenant.plan)
            paid = plan is not None and (plan.monthly_price > 0 or plan.yearly_price > 0)
            if tenant.status == "active" and paid and tenant.id not in paying:
                found.append(
                    Observation(
                        MISSING_SUBSCRIPTION,
                        tenant_subscription_resource(tenant.id),
                        f"El tenant «{tenant.subdomain}» está activo en un plan de pago pero no "
                        "tiene ninguna suscripción vigente en Stripe.",
                        tenant_id=tenant.id,
                        detail={"plan": tenant.plan},
                    )
                )
        return found


def _tenant_of(sub: dict[str, Any], snapshot: Snapshot) -> int | None:
    metadata = sub.get("metadata") or {}
    raw = metadata.get("tenant_id") if isinstance(metadata, dict) else None
    if raw is not None and str(raw).isdigit():
        return int(raw)
    return snapshot.subscription_tenants.get(str(sub.get("id")))
