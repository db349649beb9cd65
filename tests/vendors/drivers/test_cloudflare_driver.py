"""CloudflareManager against the Cloudflare emulator: idempotent routes and CNAMEs."""

from __future__ import annotations

from typing import Any

import pytest

from erp_core.drivers.base import (
    DriverError,
    IngressRule,
    PermanentDriverError,
    TransientDriverError,
    TunnelRouter,
)
from erp_core.drivers.cloudflare import CloudflareManager
from erp_core.lab import ALWAYS, LabStack

ODOO = "http://10.0.0.5:8069"


def _writes(lab: LabStack, suffix: str = "/configurations") -> list[Any]:
    return [
        r for r in lab.cloudflare_state.request_log if r.method == "PUT" and r.path.endswith(suffix)
    ]


def _ingress(lab: LabStack, tunnel_id: str) -> list[dict[str, Any]]:
    return lab.cloudflare_state.ingress(tunnel_id)


async def test_satisfies_the_domain_protocol(cloudflare: CloudflareManager) -> None:
    assert isinstance(cloudflare, TunnelRouter)


async def test_list_tunnels_reports_connections(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    main, spare = lab.tunnel_ids
    lab.cloudflare_state.set_connections(spare, 0)
    try:
        tunnels = {t.id: t for t in await cloudflare.list_tunnels()}
    finally:
        lab.cloudflare_state.set_connections(spare, 2)
    assert tunnels[main].name == "main-tunnel"
    assert tunnels[main].status == "healthy" and tunnels[main].connections == 2
    assert tunnels[spare].status == "down" and tunnels[spare].connections == 0
    assert tunnels[main].created_at is not None


async def test_ensure_route_on_a_fresh_tunnel(cloudflare: CloudflareManager, lab: LabStack) -> None:
    tunnel = lab.tunnel_ids[0]
    assert await cloudflare.ensure_route(tunnel, "acme.sajet.us", ODOO) is True
    assert _ingress(lab, tunnel) == [
        {"hostname": "acme.sajet.us", "path": "^/web/database", "service": "http_status:404"},
        {"hostname": "acme.sajet.us", "service": ODOO},
        {"service": "http_status:404"},
    ]
    assert await cloudflare.get_ingress(tunnel) == [
        IngressRule("acme.sajet.us", "http_status:404", "^/web/database"),
        IngressRule("acme.sajet.us", ODOO),
        IngressRule(None, "http_status:404"),
    ]


async def test_ensure_route_is_idempotent(cloudflare: CloudflareManager, lab: LabStack) -> None:
    tunnel = lab.tunnel_ids[0]
    await cloudflare.ensure_route(tunnel, "acme.sajet.us", ODOO)
    writes = len(_writes(lab))
    assert await cloudflare.ensure_route(tunnel, "ACME.sajet.us", ODOO) is False
    assert len(_writes(lab)) == writes
    assert lab.cloudflare_state.configurations[tunnel]["version"] == 1


async def test_ensure_route_replaces_in_place_and_keeps_others(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    tunnel = lab.tunnel_ids[0]
    legacy = {
        "hostname": "legacy.sajet.us",
        "service": "http://10.0.0.9:8069",
        "originRequest": {"connectTimeout": 30},
    }
    lab.cloudflare_state.configurations[tunnel] = {
        "version": 7,
        "created_at": "2024-01-01T00:00:00Z",
        "config": {
            "ingress": [
                {"hostname": "acme.sajet.us", "service": "http://10.0.0.1:8069"},
                legacy,
                {"service": "http_status:404"},
            ],
            "warp-routing": {"enabled": False},
        },
    }
    assert await cloudflare.ensure_route(
        tunnel, "acme.sajet.us", ODOO, block_database_manager=False
    )
    config = lab.cloudflare_state.configurations[tunnel]["config"]
    assert config["ingress"] == [
        {"hostname": "acme.sajet.us", "service": ODOO},
        legacy,
        {"service": "http_status:404"},
    ]
    assert config["warp-routing"] == {"enabled": False}


async def test_catch_all_is_moved_last_and_extra_rules_come_first(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    tunnel = lab.tunnel_ids[0]
    lab.cloudflare_state.configurations[tunnel] = {
        "version": 1,
        "created_at": "2024-01-01T00:00:00Z",
        "config": {"ingress": [{"service": "http_status:503"}]},
    }
    extra = IngressRule("acme.sajet.us", "http://10.0.0.5:8072", "^/websocket")
    await cloudflare.ensure_route(tunnel, "acme.sajet.us", ODOO, extra_rules=[extra])
    await cloudflare.ensure_route(tunnel, "beta.sajet.us", ODOO)
    ingress = _ingress(lab, tunnel)
    assert ingress[0] == {
        "hostname": "acme.sajet.us",
        "path": "^/websocket",
        "service": "http://10.0.0.5:8072",
    }
    assert ingress[-1] == {"service": "http_status:503"}
    assert [r.get("hostname") for r in ingress] == [
        "acme.sajet.us",
        "acme.sajet.us",
        "acme.sajet.us",
        "beta.sajet.us",
        "beta.sajet.us",
        None,
    ]


async def test_remove_route_is_idempotent(cloudflare: CloudflareManager, lab: LabStack) -> None:
    tunnel = lab.tunnel_ids[0]
    await cloudflare.ensure_route(tunnel, "acme.sajet.us", ODOO)
    await cloudflare.ensure_route(tunnel, "beta.sajet.us", ODOO)
    assert await cloudflare.remove_route(tunnel, "acme.sajet.us") is True
    writes = len(_writes(lab))
    assert await cloudflare.remove_route(tunnel, "acme.sajet.us") is False
    assert len(_writes(lab)) == writes
    hostnames = [r.get("hostname") for r in _ingress(lab, tunnel)]
    assert hostnames == ["beta.sajet.us", "beta.sajet.us", None]


async def test_put_ingress_appends_the_catch_all(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    tunnel = lab.tunnel_ids[1]
    await cloudflare.put_ingress(tunnel, [IngressRule("x.sajet.us", ODOO)])
    assert _ingress(lab, tunnel) == [
        {"hostname": "x.sajet.us", "service": ODOO},
        {"service": "http_status:404"},
    ]


async def test_ensure_cname_creates_once(cloudflare: CloudflareManager, lab: LabStack) -> None:
    tunnel = lab.tunnel_ids[0]
    record = await cloudflare.ensure_cname("acme.sajet.us", tunnel)
    assert record.name == "acme.sajet.us"
    assert record.content == f"{tunnel}.cfargotunnel.com"
    assert record.proxied is True
    stored = lab.cloudflare_state.dns_records[record.id]
    assert stored["ttl"] == 1 and stored["type"] == "CNAME"

    again = await cloudflare.ensure_cname("acme.sajet.us", tunnel)
    assert again == record
    posts = [r for r in lab.cloudflare_state.request_log if r.method == "POST"]
    assert len(posts) == 1
    assert await cloudflare.find_cname("acme.sajet.us") == record


async def test_ensure_cname_repoints_a_stale_record(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    old, new = lab.tunnel_ids
    seeded = lab.cloudflare_state.add_dns_record("acme.sajet.us", f"{old}.cfargotunnel.com")
    record = await cloudflare.ensure_cname("acme.sajet.us", new)
    assert record.id == seeded["id"]
    assert record.content == f"{new}.cfargotunnel.com" and record.proxied
    assert len(lab.cloudflare_state.dns_records) == 1


async def test_ensure_cname_survives_a_lost_race(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    tunnel = lab.tunnel_ids[0]
    lab.cloudflare_state.add_dns_record("acme.sajet.us", f"{tunnel}.cfargotunnel.com")
    lab.faults.set("cf.list_dns.stale", fail_times=1)  # our first lookup misses it
    record = await cloudflare.ensure_cname("acme.sajet.us", tunnel)
    assert record.content == f"{tunnel}.cfargotunnel.com"
    assert len(lab.cloudflare_state.dns_records) == 1
    creates = [r for r in lab.cloudflare_state.request_log if r.method == "POST"]
    assert [c.status for c in creates] == [400]
    assert creates[0].response["errors"][0]["code"] == 81053


async def test_ensure_cname_over_an_a_record_is_permanent(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    lab.cloudflare_state.add_dns_record("acme.sajet.us", "203.0.113.7", type="A")
    with pytest.raises(PermanentDriverError, match="Ya existe otro registro DNS") as caught:
        await cloudflare.ensure_cname("acme.sajet.us", lab.tunnel_ids[0])
    assert caught.value.vendor_code == "81053"


async def test_remove_cname_is_idempotent(cloudflare: CloudflareManager, lab: LabStack) -> None:
    await cloudflare.ensure_cname("acme.sajet.us", lab.tunnel_ids[0])
    assert await cloudflare.remove_cname("acme.sajet.us") is True
    assert await cloudflare.remove_cname("acme.sajet.us") is False
    assert await cloudflare.find_cname("acme.sajet.us") is None


async def test_pagination_follows_total_pages(lab: LabStack, cf_token: str) -> None:
    state = lab.cloudflare_state
    for index in range(5):
        state.add_dns_record(f"t{index}.sajet.us", f"{lab.tunnel_ids[0]}.cfargotunnel.com")
    state.add_dns_record("mail.sajet.us", "mx.example.net")
    async with CloudflareManager(
        cf_token,
        account_id=state.account_id,
        zone_id=state.zone_id,
        base_url=lab.cloudflare_base_url,
        max_retries=0,
        page_size=2,
    ) as small_pages:
        records = await small_pages.list_cnames()
        tunnels = await small_pages.list_tunnels()
    assert sorted(r.name for r in records) == sorted(
        [f"t{i}.sajet.us" for i in range(5)] + ["mail.sajet.us"]
    )
    pages = [dict(r.query)["page"] for r in state.request_log if r.path.endswith("/dns_records")]
    assert pages == ["1", "2", "3"]
    assert len(tunnels) == 2


@pytest.mark.parametrize(
    ("status", "expected"),
    [(503, TransientDriverError), (500, TransientDriverError), (429, TransientDriverError)],
)
async def test_server_errors_are_transient(
    cloudflare: CloudflareManager, lab: LabStack, status: int, expected: type[DriverError]
) -> None:
    lab.faults.set("cf.put_configuration", fail_times=1, status=status)
    with pytest.raises(expected) as caught:
        await cloudflare.ensure_route(lab.tunnel_ids[0], "acme.sajet.us", ODOO)
    assert caught.value.status_code == status
    assert "configuración del túnel" in caught.value.message
    assert await cloudflare.ensure_route(lab.tunnel_ids[0], "acme.sajet.us", ODOO) is True


async def test_vendor_validation_error_is_permanent(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    lab.faults.set("cf.create_dns", fail_times=ALWAYS, status=400, error_code=9005, message="bad")
    with pytest.raises(PermanentDriverError) as caught:
        await cloudflare.ensure_cname("acme.sajet.us", lab.tunnel_ids[0])
    assert caught.value.vendor_code == "9005"
    assert "crear el registro DNS de acme.sajet.us" in caught.value.message


async def test_bad_token_is_permanent_and_not_leaked(lab: LabStack) -> None:
    token = "wrong-token-0123456789"
    state = lab.cloudflare_state
    async with CloudflareManager(
        token,
        account_id=state.account_id,
        zone_id=state.zone_id,
        base_url=lab.cloudflare_base_url,
        max_retries=0,
    ) as manager:
        with pytest.raises(PermanentDriverError, match="rechazó el token") as caught:
            await manager.list_tunnels()
    assert caught.value.vendor_code == "10000"
    for text in (caught.value.message, caught.value.vendor_detail, repr(caught.value)):
        assert token not in text


async def test_timeout_is_transient(lab: LabStack, cf_token: str) -> None:
    state = lab.cloudflare_state
    lab.faults.set("cf.list_dns", latency_ms=1500)
    async with CloudflareManager(
        cf_token,
        account_id=state.account_id,
        zone_id=state.zone_id,
        base_url=lab.cloudflare_base_url,
        max_retries=0,
        timeout=0.3,
    ) as manager:
        with pytest.raises(TransientDriverError, match="no respondió a tiempo"):
            await manager.find_cname("acme.sajet.us")


async def test_sdk_retries_recover_from_one_503(lab: LabStack, cf_token: str) -> None:
    state = lab.cloudflare_state
    lab.faults.set("cf.list_tunnels", fail_times=1, status=503)
    async with CloudflareManager(
        cf_token,
        account_id=state.account_id,
        zone_id=state.zone_id,
        base_url=lab.cloudflare_base_url,
        max_retries=1,
    ) as manager:
        assert len(await manager.list_tunnels()) == 2
    assert lab.faults.calls["cf.list_tunnels"] == 2
