"""The custom hostname driver against the Cloudflare emulator, and the lab edge routing
a custom hostname through its custom origin or the zone's fallback origin."""

from __future__ import annotations

import httpx

from erp_core.drivers.base import CustomHostnameManager
from erp_core.drivers.cloudflare import CloudflareManager
from erp_core.lab import LabStack


async def test_satisfies_the_custom_hostname_protocol(cloudflare: CloudflareManager) -> None:
    assert isinstance(cloudflare, CustomHostnameManager)


async def test_ensure_is_idempotent_and_reports_the_records_to_create(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    first = await cloudflare.ensure_custom_hostname("ERP.Cliente.com", origin="acme.sajet.us")
    again = await cloudflare.ensure_custom_hostname("erp.cliente.com", origin="acme.sajet.us")
    assert first.id == again.id and len(lab.cloudflare_state.custom_hostnames) == 1
    assert (first.status, first.ssl_status) == ("pending", "pending_validation")
    assert first.custom_origin_server == "acme.sajet.us"
    purposes = {r.purpose: r for r in first.records}
    assert purposes["ownership"].name == "_cf-custom-hostname.erp.cliente.com"
    assert purposes["ssl"].name == "_acme-challenge.erp.cliente.com"
    assert first.errors  # Cloudflare says why it is still pending

    lab.cloudflare_state.publish("erp.cliente.com")
    active = await cloudflare.get_custom_hostname(first.id)
    assert active is not None and (active.status, active.ssl_status) == ("active", "active")
    assert active.records == () and active.errors == ()

    assert await cloudflare.delete_custom_hostname(first.id) is True
    assert await cloudflare.delete_custom_hostname(first.id) is False
    assert await cloudflare.get_custom_hostname(first.id) is None
    assert await cloudflare.find_custom_hostname("erp.cliente.com") is None


async def test_host_route_rewrites_host_and_keeps_other_rules(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    tunnel = lab.tunnel_ids[0]
    await cloudflare.ensure_route(tunnel, "acme.sajet.us", lab.odoo.url)
    changed = await cloudflare.ensure_host_route(
        tunnel, "erp.cliente.com", lab.odoo.url, http_host_header="acme.sajet.us"
    )
    unchanged = await cloudflare.ensure_host_route(
        tunnel, "erp.cliente.com", lab.odoo.url, http_host_header="acme.sajet.us"
    )
    assert (changed, unchanged) == (True, False)
    rules = lab.cloudflare_state.ingress(tunnel)
    assert [r.get("hostname") for r in rules] == [
        "acme.sajet.us",
        "acme.sajet.us",
        "erp.cliente.com",
        "erp.cliente.com",
        None,
    ]
    assert rules[3]["originRequest"] == {"httpHostHeader": "acme.sajet.us"}
    await cloudflare.remove_route(tunnel, "erp.cliente.com")
    assert "erp.cliente.com" not in [
        r.get("hostname") for r in lab.cloudflare_state.ingress(tunnel)
    ]


async def test_edge_follows_the_fallback_origin_to_the_tenant_database(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    """No custom origin: Cloudflare sends the hostname to the zone's fallback origin,
    whose proxied CNAME picks the tunnel; the rule's Host rewrite picks the database."""
    lab.odoo_state.add_database("acme")
    tunnel = lab.tunnel_ids[0]
    await cloudflare.ensure_cname("fallback.sajet.us", tunnel)
    await cloudflare.set_fallback_origin("fallback.sajet.us")
    hostname = await cloudflare.create_custom_hostname("erp.cliente.com")
    await cloudflare.ensure_host_route(
        tunnel, "erp.cliente.com", lab.odoo.url, http_host_header="acme.sajet.us"
    )
    async with httpx.AsyncClient(timeout=10) as http:
        pending = await http.get(f"{lab.edge.url}/web/login", headers={"Host": "erp.cliente.com"})
        lab.cloudflare_state.publish(hostname.hostname)
        served = await http.get(f"{lab.edge.url}/web/login", headers={"Host": "erp.cliente.com"})
        unknown = await http.get(f"{lab.edge.url}/web/login", headers={"Host": "otro.example.com"})
    assert pending.status_code == 409
    assert served.status_code == 200 and 'name="login"' in served.text
    assert unknown.status_code == 404
