"""The lab edge routes by what the drivers wrote: CNAME → tunnel → ingress → Odoo."""

from __future__ import annotations

import httpx
import pytest

from erp_core.drivers.cloudflare import CloudflareManager
from erp_core.drivers.odoo import OdooRpcManager
from erp_core.lab import LabStack


@pytest.fixture
async def published(lab: LabStack, cloudflare: CloudflareManager) -> str:
    """acme.sajet.us published through the main tunnel to the Odoo emulator."""
    lab.odoo_state.add_database("acme", company_name="Acme Dominicana")
    tunnel = lab.tunnel_ids[0]
    await cloudflare.ensure_route(tunnel, "acme.sajet.us", lab.odoo.url)
    await cloudflare.ensure_cname("acme.sajet.us", tunnel)
    return "acme.sajet.us"


async def test_edge_serves_the_tenant_login_page(
    http: httpx.AsyncClient, lab: LabStack, published: str
) -> None:
    page = await http.get(f"{lab.edge.url}/web/login", headers={"Host": published})
    assert page.status_code == 200
    assert "Acme Dominicana" in page.text and 'name="login"' in page.text


async def test_driver_probe_through_the_edge(
    odoo: OdooRpcManager, lab: LabStack, published: str
) -> None:
    assert await odoo.login_page_ok(published, via_url=lab.edge.url)
    assert not await odoo.login_page_ok("other.sajet.us", via_url=lab.edge.url)


async def test_database_manager_is_blocked_on_public_hostnames(
    http: httpx.AsyncClient, lab: LabStack, published: str, master_password: str
) -> None:
    blocked = await http.post(
        f"{lab.edge.url}/web/database/backup",
        headers={"Host": published},
        data={"master_pwd": master_password, "name": "acme", "backup_format": "zip"},
    )
    assert blocked.status_code == 404
    assert lab.faults.calls["web.backup"] == 0


async def test_post_bodies_are_proxied(
    http: httpx.AsyncClient, lab: LabStack, published: str
) -> None:
    payload = {"jsonrpc": "2.0", "method": "call", "params": {}, "id": 3}
    response = await http.post(
        f"{lab.edge.url}/web/webclient/version_info", json=payload, headers={"Host": published}
    )
    assert response.status_code == 200 and response.json()["id"] == 3


async def test_unknown_or_unpublished_hosts_are_404(
    http: httpx.AsyncClient, lab: LabStack, cloudflare: CloudflareManager
) -> None:
    assert (await http.get(f"{lab.edge.url}/", headers={"Host": "example.com"})).status_code == 404
    await cloudflare.ensure_route(lab.tunnel_ids[0], "nodns.sajet.us", lab.odoo.url)
    no_dns = await http.get(f"{lab.edge.url}/web/login", headers={"Host": "nodns.sajet.us"})
    assert no_dns.status_code == 404


async def test_route_removed_falls_to_catch_all(
    http: httpx.AsyncClient, lab: LabStack, cloudflare: CloudflareManager, published: str
) -> None:
    await cloudflare.remove_route(lab.tunnel_ids[0], published)
    response = await http.get(f"{lab.edge.url}/web/login", headers={"Host": published})
    assert response.status_code == 404


async def test_disconnected_tunnel_is_530(
    http: httpx.AsyncClient, lab: LabStack, published: str
) -> None:
    lab.cloudflare_state.set_connections(lab.tunnel_ids[0], 0)
    try:
        response = await http.get(f"{lab.edge.url}/web/login", headers={"Host": published})
    finally:
        lab.cloudflare_state.set_connections(lab.tunnel_ids[0], 2)
    assert response.status_code == 530


async def test_unreachable_origin_is_502(
    http: httpx.AsyncClient, lab: LabStack, cloudflare: CloudflareManager
) -> None:
    tunnel = lab.tunnel_ids[0]
    await cloudflare.ensure_route(tunnel, "down.sajet.us", "http://127.0.0.1:9")
    await cloudflare.ensure_cname("down.sajet.us", tunnel)
    response = await http.get(f"{lab.edge.url}/web/login", headers={"Host": "down.sajet.us"})
    assert response.status_code == 502
