"""Cloudflare: each tunnel's ingress (one configuration read per tunnel) and the zone's
CNAMEs (one paginated list) vs live tenants under BASE_DOMAIN.

Only hostnames under BASE_DOMAIN are judged here; customers' own hostnames belong to the
custom-hostnames check. Reserved subdomains (the control plane's own names) are never
orphans. Transitional tenants (provisioning, suspending…) own their hostname but are not
required to be routed yet: their job is still converging.
"""

from __future__ import annotations

from typing import Any, cast

from erp_core.context import AppContext
from erp_core.drivers.base import DATABASE_MANAGER_PATH
from erp_core.drivers.cloudflare import TUNNEL_DOMAIN
from erp_core.drivers.factory import cloudflare_for
from erp_core.reconciliation.checks.base import LIVE_STATUSES, Observation, Snapshot, TenantRow
from erp_core.tenants.subdomains import RESERVED

ORPHAN_INGRESS = "orphan_ingress"
MISSING_INGRESS = "missing_ingress"
WRONG_SERVICE = "wrong_service"
ORPHAN_DNS = "orphan_dns"
MISSING_DNS = "missing_dns"
WRONG_DNS_TARGET = "wrong_dns_target"


def ingress_resource(tunnel_id: str, hostname: str) -> str:
    return f"ingress:{tunnel_id}:{hostname}"


def dns_resource(hostname: str) -> str:
    return f"dns:{hostname}"


def expected_service(ctx: AppContext, snapshot: Snapshot, tenant: TenantRow) -> str | None:
    """Where a live tenant's hostname must point: its server, or the suspended page."""
    server = snapshot.servers.get(tenant.odoo_server_id or -1)
    if server is None:
        return None
    if tenant.status == "suspended":
        return ctx.settings.erp_core_public_url.rstrip("/")
    return server.url.rstrip("/")


class TunnelRoutingCheck:
    source = "cloudflare"

    def configured(self, ctx: AppContext) -> bool:
        return ctx.settings.cloudflare_configured

    async def observe(self, ctx: AppContext, snapshot: Snapshot) -> list[Observation]:
        router = cloudflare_for(ctx)
        assert router is not None
        base = ctx.settings.base_domain.lower()
        suffix = "." + base
        tunnels = sorted({s.tunnel_id for s in snapshot.servers.values() if s.tunnel_id})
        try:
            ingress = {t: await router.get_ingress(t) for t in tunnels}
            records = await cast(Any, router).list_cnames()
        finally:
            await router.aclose()
        owners = snapshot.live_by_subdomain()

        def owner_of(hostname: str) -> tuple[str, TenantRow | None, bool]:
            label = hostname[: -len(suffix)]
            return label, owners.get(label), label in RESERVED or "." in label

        found: list[Observation] = []
        # --- ingress: every rule under BASE_DOMAIN on every tunnel we read
        routed: dict[str, tuple[str, str]] = {}  # hostname -> (tunnel, service)
        for tunnel_id, rules in ingress.items():
            for rule in rules:
                host = (rule.hostname or "").lower()
                if not host.endswith(suffix):
                    continue
                _label, tenant, ignored = owner_of(host)
                if ignored:
                    continue
                server = snapshot.servers.get(tenant.odoo_server_id or -1) if tenant else None
                if tenant is None or server is None or server.tunnel_id != tunnel_id:
                    found.append(
                        Observation(
                            ORPHAN_INGRESS,
                            ingress_resource(tunnel_id, host),
                            f"El túnel {tunnel_id[:8]}… publica {host}, que no corresponde a "
                            "ningún tenant en ese túnel.",
                            tenant_id=tenant.id if tenant else None,
                            detail={"tunnel_id": tunnel_id, "hostname": host,
                                    "service": rule.service},
                        )
                    )  # fmt: skip
                    continue
                if rule.path is None or rule.path != DATABASE_MANAGER_PATH:
                    routed[host] = (tunnel_id, rule.service)
        for tenant in owners.values():
            if tenant.status not in LIVE_STATUSES:
                continue
            server = snapshot.servers.get(tenant.odoo_server_id or -1)
            if server is None or not server.tunnel_id:
                continue
            host = f"{tenant.subdomain}{suffix}"
            want = expected_service(ctx, snapshot, tenant)
            seen = routed.get(host)
            detail = {"tunnel_id": server.tunnel_id, "hostname": host, "expected": want}
            if seen is None:
                found.append(
                    Observation(
                        MISSING_INGRESS,
                        ingress_resource(server.tunnel_id, host),
                        f"Falta la ruta de {host} en el túnel.",
                        tenant_id=tenant.id,
                        detail=detail,
                    )
                )
            elif want is not None and seen[1].rstrip("/") != want:
                found.append(
                    Observation(
                        WRONG_SERVICE,
                        ingress_resource(server.tunnel_id, host),
                        f"La ruta de {host} apunta a {seen[1]} en lugar de {want}.",
                        tenant_id=tenant.id,
                        detail={**detail, "service": seen[1]},
                    )
                )
        # --- DNS: every CNAME under BASE_DOMAIN
        by_name = {r.name.lower(): r for r in records}
        for name, record in sorted(by_name.items()):
            if not name.endswith(suffix):
                continue
            _label, tenant, ignored = owner_of(name)
            if ignored:
                continue
            if tenant is None:
                found.append(
                    Observation(
                        ORPHAN_DNS,
                        dns_resource(name),
                        f"El registro DNS {name} no corresponde a ningún tenant.",
                        detail={"hostname": name, "content": record.content,
                                "record_id": record.id},
                    )
                )  # fmt: skip
                continue
            server = snapshot.servers.get(tenant.odoo_server_id or -1)
            if tenant.status in LIVE_STATUSES and server is not None and server.tunnel_id:
                target = f"{server.tunnel_id}.{TUNNEL_DOMAIN}"
                if record.content.lower() != target:
                    found.append(
                        Observation(
                            WRONG_DNS_TARGET,
                            dns_resource(name),
                            f"El registro DNS {name} apunta a {record.content} en lugar de "
                            f"{target}.",
                            tenant_id=tenant.id,
                            detail={"hostname": name, "content": record.content,
                                    "expected": target},
                        )
                    )  # fmt: skip
        for tenant in owners.values():
            server = snapshot.servers.get(tenant.odoo_server_id or -1)
            if tenant.status not in LIVE_STATUSES or server is None or not server.tunnel_id:
                continue
            host = f"{tenant.subdomain}{suffix}"
            if host not in by_name:
                found.append(
                    Observation(
                        MISSING_DNS,
                        dns_resource(host),
                        f"Falta el registro DNS de {host}.",
                        tenant_id=tenant.id,
                        detail={"hostname": host},
                    )
                )
        return found
