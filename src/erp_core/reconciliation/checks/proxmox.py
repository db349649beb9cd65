"""Proxmox: ``/cluster/resources?type=vm`` (one call for the whole cluster) vs the dedicated
containers we created (``dedicated_containers`` rows, live and released)."""

from __future__ import annotations

from erp_core.context import AppContext
from erp_core.drivers.factory import cluster_for
from erp_core.reconciliation.checks.base import Observation, Snapshot

ORPHAN_CONTAINER = "orphan_container"
MISSING_CONTAINER = "missing_container"
OUR_HOSTNAME_PREFIX = "odoo-"
"""Dedicated containers are cloned with hostname ``odoo-<subdomain>``."""


def container_resource(vmid: int) -> str:
    return f"lxc:{vmid}"


class ProxmoxContainersCheck:
    source = "proxmox"

    def configured(self, ctx: AppContext) -> bool:
        return ctx.settings.proxmox_configured

    async def observe(self, ctx: AppContext, snapshot: Snapshot) -> list[Observation]:
        cluster = cluster_for(ctx)
        assert cluster is not None
        try:
            resources = await cluster.cluster_resources("vm")
        finally:
            await cluster.aclose()
        live = {c.vmid: c for c in snapshot.containers if not c.released}
        released = {c.vmid: c for c in snapshot.containers if c.released}
        found: list[Observation] = []
        present: set[int] = set()
        for res in resources:
            if res.type != "lxc" or res.vmid is None or res.template:
                continue
            present.add(res.vmid)
            row = live.get(res.vmid)
            tenant = snapshot.tenants.get(row.tenant_id) if row else None
            if row is not None and tenant is not None and tenant.status != "deleted":
                continue
            former = row or released.get(res.vmid)
            ours = former is not None or (res.name or "").startswith(OUR_HOSTNAME_PREFIX)
            if not ours:
                continue  # someone else's container on the cluster: not ours to judge
            found.append(
                Observation(
                    ORPHAN_CONTAINER,
                    container_resource(res.vmid),
                    f"El contenedor {res.vmid} ({res.name or 'sin nombre'}) en {res.node} sigue "
                    "existiendo pero ningún tenant dedicado activo lo usa.",
                    tenant_id=former.tenant_id if former else None,
                    detail={"vmid": res.vmid, "node": res.node, "name": res.name,
                            "status": res.status},
                )
            )  # fmt: skip
        for row in live.values():
            tenant = snapshot.tenants.get(row.tenant_id)
            if row.state in ("active", "suspended") and row.vmid not in present:
                found.append(
                    Observation(
                        MISSING_CONTAINER,
                        container_resource(row.vmid),
                        f"El contenedor {row.vmid} del tenant "
                        f"«{tenant.subdomain if tenant else row.tenant_id}» no existe en Proxmox.",
                        tenant_id=row.tenant_id,
                        detail={"vmid": row.vmid, "node": row.node, "hostname": row.hostname},
                    )
                )
        return found
