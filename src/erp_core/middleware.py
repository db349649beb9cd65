"""Pure-ASGI middleware (cheap on the hot path): request ids, security headers, access log,
and the suspended-tenant page for hostnames under BASE_DOMAIN.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from erp_core.logs_setup import request_id_var, user_id_var
from erp_core.observability.metrics import observe_request
from erp_core.suspended import render

log = logging.getLogger("erp_core.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SPA_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


class RequestContextMiddleware:
    """Adds X-Request-ID and security headers; logs one JSON line per request."""

    def __init__(self, app: ASGIApp, *, base_domain: str, public_url: str) -> None:
        self.app = app
        self.base_suffix = "." + base_domain.lower()
        self.own_host = (urlsplit(public_url).hostname or "").lower()

    def _is_tenant_host(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host = str(value.decode("latin-1")).split(":")[0].lower()
                if host.endswith(self.base_suffix) and host != self.own_host:
                    return host
                return None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tenant_host = self._is_tenant_host(scope)
        if tenant_host is not None:
            await self._suspended(tenant_host, scope, send)
            return
        rid = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if 0 < len(candidate) <= 64 and candidate.replace("-", "").isalnum():
                    rid = candidate
                break
        rid = rid or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status_holder = {"status": 500}
        path: str = scope.get("path", "")
        is_https = scope.get("scheme") == "https"

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-request-id", rid.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if not path.startswith("/api") and b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", SPA_CSP.encode()))
                if is_https:
                    extra.append(
                        (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
                    )
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            elapsed_ms = elapsed * 1000
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            observe_request(scope.get("method", ""), template, status_holder["status"], elapsed)
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": path,
                    "status": status_holder["status"],
                    "ms": round(elapsed_ms, 2),
                    "user_id": user_id_var.get(),
                },
            )
            request_id_var.reset(token)

    async def _suspended(self, host: str, scope: Scope, send: Send) -> None:
        """Answer a tenant hostname routed here by suspension: a Spanish page, 503."""

        body = await render(scope.get("app"), host, self.base_suffix)
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                    (b"retry-after", b"3600"),
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
