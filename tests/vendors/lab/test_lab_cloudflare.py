"""The Cloudflare emulator: v4 envelope, auth, pagination, validation, 81053."""

from __future__ import annotations

import httpx

from erp_core.lab import LabStack


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_bad_token_is_401_with_code_10000(http: httpx.AsyncClient, lab: LabStack) -> None:
    state = lab.cloudflare_state
    url = f"{lab.cloudflare_base_url}/accounts/{state.account_id}/cfd_tunnel"
    response = await http.get(url, headers=_headers("nope"))
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "errors": [{"code": 10000, "message": "Authentication error"}],
        "messages": [],
        "result": None,
    }


async def test_dns_pagination_and_filters(
    http: httpx.AsyncClient, lab: LabStack, cf_token: str
) -> None:
    state = lab.cloudflare_state
    for index in range(5):
        state.add_dns_record(f"c{index}", "t.cfargotunnel.com")
    state.add_dns_record("www", "203.0.113.1", type="A")
    url = f"{lab.cloudflare_base_url}/zones/{state.zone_id}/dns_records"
    page = await http.get(
        url, params={"type": "CNAME", "per_page": 2, "page": 3}, headers=_headers(cf_token)
    )
    body = page.json()
    assert body["success"] is True and body["errors"] == []
    assert body["result_info"] == {
        "page": 3,
        "per_page": 2,
        "count": 1,
        "total_count": 5,
        "total_pages": 3,
    }
    exact = await http.get(url, params={"name.exact": "C1.sajet.us"}, headers=_headers(cf_token))
    assert [r["name"] for r in exact.json()["result"]] == ["c1.sajet.us"]
    plain = await http.get(url, params={"name": "www.sajet.us"}, headers=_headers(cf_token))
    assert [r["type"] for r in plain.json()["result"]] == ["A"]


async def test_duplicate_cname_is_81053(
    http: httpx.AsyncClient, lab: LabStack, cf_token: str
) -> None:
    state = lab.cloudflare_state
    url = f"{lab.cloudflare_base_url}/zones/{state.zone_id}/dns_records"
    record = {
        "type": "CNAME",
        "name": "acme",
        "content": "x.cfargotunnel.com",
        "proxied": True,
        "ttl": 1,
    }
    first = await http.post(url, json=record, headers=_headers(cf_token))
    assert first.status_code == 200 and first.json()["result"]["name"] == "acme.sajet.us"
    second = await http.post(url, json=record, headers=_headers(cf_token))
    assert second.status_code == 400
    assert second.json()["errors"] == [
        {"code": 81053, "message": "An A, AAAA, or CNAME record with that host already exists."}
    ]
    record_id = first.json()["result"]["id"]
    patched = await http.patch(
        f"{url}/{record_id}", json={"proxied": False}, headers=_headers(cf_token)
    )
    assert patched.json()["result"]["proxied"] is False
    gone = await http.delete(f"{url}/{record_id}", headers=_headers(cf_token))
    assert gone.json()["result"] == {"id": record_id}
    missing = await http.get(f"{url}/{record_id}", headers=_headers(cf_token))
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == 81044


async def test_configuration_last_rule_must_match_everything(
    http: httpx.AsyncClient, lab: LabStack, cf_token: str
) -> None:
    state = lab.cloudflare_state
    tunnel = lab.tunnel_ids[0]
    url = (
        f"{lab.cloudflare_base_url}/accounts/{state.account_id}/cfd_tunnel/{tunnel}/configurations"
    )
    bad = {"config": {"ingress": [{"hostname": "a.sajet.us", "service": "http://127.0.0.1:1"}]}}
    response = await http.put(url, json=bad, headers=_headers(cf_token))
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 1056
    assert tunnel not in state.configurations
    good = {"config": {"ingress": [bad["config"]["ingress"][0], {"service": "http_status:404"}]}}
    saved = await http.put(url, json=good, headers=_headers(cf_token))
    assert saved.json()["result"]["version"] == 1
    read = (await http.get(url, headers=_headers(cf_token))).json()["result"]
    assert read["config"] == good["config"] and read["tunnel_id"] == tunnel


async def test_tunnel_create_delete_and_status(
    http: httpx.AsyncClient, lab: LabStack, cf_token: str
) -> None:
    state = lab.cloudflare_state
    url = f"{lab.cloudflare_base_url}/accounts/{state.account_id}/cfd_tunnel"
    created = (
        await http.post(
            url, json={"name": "tmp", "config_src": "cloudflare"}, headers=_headers(cf_token)
        )
    ).json()["result"]
    assert created["status"] == "inactive" and created["connections"] == []
    try:
        deleted = await http.delete(f"{url}/{created['id']}", headers=_headers(cf_token))
        assert deleted.json()["result"]["deleted_at"]
        live = await http.get(url, params={"is_deleted": "false"}, headers=_headers(cf_token))
        assert created["id"] not in [t["id"] for t in live.json()["result"]]
    finally:
        with state.lock:
            state.tunnels.pop(created["id"], None)


async def test_cloudflare_faults_use_the_envelope(
    http: httpx.AsyncClient, lab: LabStack, cf_token: str
) -> None:
    lab.faults.set("cf.list_tunnels", fail_times=1, status=429)
    url = f"{lab.cloudflare_base_url}/accounts/{lab.cloudflare_state.account_id}/cfd_tunnel"
    limited = await http.get(url, headers=_headers(cf_token))
    assert limited.status_code == 429 and limited.json()["errors"][0]["code"] == 971
    assert (await http.get(url, headers=_headers(cf_token))).status_code == 200
