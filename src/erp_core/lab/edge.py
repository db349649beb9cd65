"""The lab edge: plays Cloudflare's edge plus cloudflared for requests on loopback.

A request's Host picks the tunnel the way the real path does (the zone's proxied CNAME
``<tunnel>.cfargotunnel.com``, unless ``require_dns=False``), then that tunnel's ingress
rules, read live from the Cloudflare emulator's state, are applied in order: hostname
(exact or ``*.`` wildcard) and optional path regex; ``http_status:NNN`` answers directly,
``http(s)://`` services are reverse-proxied with the original Host header, streaming both
ways. Active custom hostnames (Cloudflare for SaaS) are followed to their custom origin
or the zone's fallback origin, then matched against their own ingress rule, whose
``originRequest.httpHostHeader`` becomes the Host Odoo sees. So a test proves that what the drivers wrote to Cloudflare really routes a
customer's hostname to their Odoo login page — and that ``/web/database`` is blocked.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import Iterable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from erp_core.lab.cloudflare import CloudflareLabState

__all__ = ["create_edge", "match_ingress"]

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _hostname_matches(pattern: str, host: str) -> bool:
    pattern = pattern.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and host != pattern[2:]
    return host == pattern


def match_ingress(rules: Iterable[dict[str, Any]], host: str, path: str) -> dict[str, Any] | None:
    """The first rule matching ``host`` and ``path``, as cloudflared evaluates them."""
    for rule in rules:
        hostname = rule.get("hostname")
        if hostname and not _hostname_matches(str(hostname), host):
            continue
        pattern = rule.get("path")
        if pattern and not re.search(str(pattern), path):
            continue
        return rule
    return None


def create_edge(
    cloudflare_state: CloudflareLabState,
    tunnel_ids: Iterable[str],
    base_domain: str,
    *,
    require_dns: bool = True,
    timeout: float = 30.0,
) -> Starlette:
    """Build the edge app for the tunnels this "cloudflared" runs (``tunnel_ids``)."""
    served = list(tunnel_ids)
    suffix = "." + base_domain.lower()

    def pick_tunnel(host: str) -> tuple[str | None, Response | None]:
        if not require_dns:
            for tunnel_id in served:
                rules = cloudflare_state.ingress(tunnel_id)
                if any(r.get("hostname") and _hostname_matches(r["hostname"], host) for r in rules):
                    return tunnel_id, None
            return None, PlainTextResponse("No route for this host", 404)
        with cloudflare_state.lock:
            cnames = [
                r
                for r in cloudflare_state.dns_records.values()
                if r["name"] == host and r["type"] == "CNAME" and r["proxied"]
            ]
            if not cnames or not cnames[0]["content"].endswith(".cfargotunnel.com"):
                return None, PlainTextResponse("DNS: no proxied tunnel record", 404)
            tunnel_id = cnames[0]["content"].split(".")[0]
            tunnel = cloudflare_state.tunnels.get(tunnel_id)
            connected = bool(tunnel and tunnel["connections"] and not tunnel["deleted_at"])
        if tunnel_id not in served or not connected:
            return None, PlainTextResponse("Error 1033: Argo Tunnel error", 530)
        return tunnel_id, None

    def custom_origin(host: str) -> tuple[str | None, Response | None]:
        """Cloudflare for SaaS: an active custom hostname goes to its own origin
        (``custom_origin_server``) or the zone's fallback origin; the tunnel then
        matches the ingress rule of the custom hostname itself."""
        custom = cloudflare_state.custom_hostname(host)
        if custom is None:
            return None, PlainTextResponse("Unknown host", 404)
        if custom["status"] != "active" or custom["ssl"]["status"] != "active":
            return None, PlainTextResponse("Error 1001: custom hostname not active", 409)
        with cloudflare_state.lock:
            fallback = (cloudflare_state.fallback_origin or {}).get("origin")
        origin = custom.get("custom_origin_server") or fallback
        if not origin:
            return None, PlainTextResponse("Error 1016: origin DNS error", 530)
        return str(origin).lower(), None

    async def handle(request: Request) -> Response:
        host = request.headers.get("host", "").partition(":")[0].lower()
        if not host.endswith(suffix) and host != base_domain.lower():
            origin, refusal = custom_origin(host)
            if origin is None:
                return refusal or PlainTextResponse("Unknown host", 404)
            tunnel_id, refusal = pick_tunnel(host if not require_dns else origin)
        else:
            tunnel_id, refusal = pick_tunnel(host)
        if refusal is not None or tunnel_id is None:
            return refusal or PlainTextResponse("Unknown host", 404)
        rule = match_ingress(cloudflare_state.ingress(tunnel_id), host, request.url.path)
        if rule is None:
            return PlainTextResponse("No ingress rule matched", 404)
        service = str(rule["service"])
        if service.startswith("http_status:"):
            return Response(status_code=int(service.removeprefix("http_status:")))
        if not service.startswith(("http://", "https://")):
            return PlainTextResponse(f"Lab edge cannot serve {service}", 502)
        return await _proxy(request, service, rule, timeout)

    return Starlette(routes=[Route("/{path:path}", handle, methods=_ALL_METHODS)])


_CLIENTS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[float, bool], httpx.AsyncClient]
] = weakref.WeakKeyDictionary()


def _client(timeout: float, *, verify: bool) -> httpx.AsyncClient:
    """One pooled client per event loop (each lab server runs its own loop in its thread);
    a new client per request would rebuild an SSL context (~25 ms) every time."""
    clients = _CLIENTS.setdefault(asyncio.get_running_loop(), {})
    client = clients.get((timeout, verify))
    if client is None or client.is_closed:
        client = httpx.AsyncClient(timeout=timeout, verify=verify)
        clients[(timeout, verify)] = client
    return client


async def _proxy(
    request: Request, service: str, rule: dict[str, Any], upstream_timeout: float
) -> Response:
    """Forward the request to ``service`` streaming both bodies; keep the public Host
    (or ``originRequest.httpHostHeader``) like cloudflared does."""
    origin = rule.get("originRequest") or {}
    headers = [
        (name, value)
        for name, value in request.headers.items()
        if name.lower() not in _HOP_BY_HOP and name.lower() != "host"
    ]
    headers.append(("host", str(origin.get("httpHostHeader") or request.headers["host"])))
    client_ip = request.client.host if request.client else "127.0.0.1"
    headers += [
        ("x-forwarded-for", client_ip),
        ("x-forwarded-proto", "https"),
        ("cf-connecting-ip", client_ip),
    ]
    url = service.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    client = _client(upstream_timeout, verify=not origin.get("noTLSVerify", False))
    has_body = request.method not in ("GET", "HEAD", "OPTIONS")
    upstream_request = client.build_request(
        request.method, url, headers=headers, content=request.stream() if has_body else None
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except httpx.HTTPError:
        return PlainTextResponse("Bad gateway: origin unreachable", 502)

    async def close() -> None:
        await upstream.aclose()

    response_headers = {
        name: value for name, value in upstream.headers.items() if name.lower() not in _HOP_BY_HOP
    }
    return StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        headers=response_headers,
        background=BackgroundTask(close),
    )
