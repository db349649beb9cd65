"""Domain-facing driver contracts: errors, value objects and protocols.

Services import this module only. The concrete drivers (``odoo.py``, ``cloudflare.py``)
satisfy these protocols structurally, which keeps vendor SDK types out of the domain and
lets tests inject the same drivers pointed at the lab emulators.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, TypedDict, runtime_checkable

CATCH_ALL_SERVICE = "http_status:404"
"""Service of the ingress rule that must close every tunnel configuration."""

DATABASE_MANAGER_PATH = "^/web/database"
"""Path regex blocked on public hostnames: Odoo's database manager must not be reachable."""


class DriverError(Exception):
    """A vendor call failed in a way the caller must handle.

    ``message`` is Spanish and safe to show an operator (never a password or token);
    ``vendor_detail`` is the raw English detail for logs; ``vendor_code`` is the vendor's
    own error identifier (``odoo.exceptions.AccessDenied``, ``81053``…) when it gave one,
    so callers can branch on it without parsing text.
    """

    def __init__(
        self,
        message: str,
        *,
        vendor_detail: str = "",
        vendor_code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.vendor_detail = vendor_detail
        self.vendor_code = vendor_code
        self.status_code = status_code

    def __str__(self) -> str:
        return self.message


class TransientDriverError(DriverError):
    """Timeouts, connection failures, HTTP 429 and 5xx: retry later with backoff."""


class PermanentDriverError(DriverError):
    """The vendor refused the request itself (bad credentials, conflict, validation):
    retrying the same call will fail the same way."""


@dataclass(frozen=True, slots=True)
class IngressRule:
    """One tunnel ingress rule. ``hostname=None`` (and no path) is the catch-all."""

    hostname: str | None
    service: str
    path: str | None = None

    def as_api_dict(self) -> dict[str, str]:
        """The JSON shape Cloudflare stores (absent keys, not nulls)."""
        rule: dict[str, str] = {"service": self.service}
        if self.hostname is not None:
            rule["hostname"] = self.hostname
        if self.path is not None:
            rule["path"] = self.path
        return rule


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """A DNS record of the product's zone, as the domain needs it."""

    id: str
    name: str
    content: str
    proxied: bool
    type: str = "CNAME"


TunnelStatus = Literal["inactive", "degraded", "healthy", "down"]


@dataclass(frozen=True, slots=True)
class TunnelInfo:
    """A Cloudflare Tunnel with how many cloudflared connections serve it right now."""

    id: str
    name: str
    status: str
    connections: int
    created_at: datetime | None


class OdooHealth(TypedDict):
    """Result of a health probe: ``status`` is ``ok`` or ``down``; never raises."""

    status: Literal["ok", "down"]
    version: str | None
    latency_ms: float
    detail: str | None


@runtime_checkable
class OdooDatabaseManager(Protocol):
    """Manage the databases of one Odoo server (RPC today, SSH/CLI for Odoo ≥ 20).

    ``create_database`` may report success while the database is unusable (Odoo logs
    initialisation errors and still returns true): callers confirm with ``verify_login``.
    """

    async def server_version(self) -> str: ...

    async def list_databases(self) -> list[str]: ...

    async def database_exists(self, name: str) -> bool: ...

    async def create_database(
        self,
        name: str,
        *,
        admin_login: str,
        admin_password: str,
        lang: str,
        country_code: str | None = None,
    ) -> None: ...

    async def verify_login(self, db: str, login: str, password: str) -> int: ...

    async def set_company_name(
        self, db: str, login: str, password: str, company_name: str
    ) -> None: ...

    async def drop_database(self, name: str) -> bool: ...

    async def duplicate_database(self, src: str, new: str, *, neutralize: bool = False) -> None: ...

    async def change_master_password(self, new_password: str) -> None: ...

    def backup_stream(self, name: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]: ...

    async def restore_from_file(
        self, name: str, path: Path, *, copy: bool = True, neutralize: bool = False
    ) -> None: ...

    async def health(self) -> OdooHealth: ...

    async def login_page_ok(self, hostname: str, via_url: str | None = None) -> bool: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class TunnelRouter(Protocol):
    """Publish hostnames through a Cloudflare Tunnel: ingress rules plus proxied CNAMEs.

    Read-modify-write of a tunnel configuration is not atomic at Cloudflare (PUT replaces
    the whole document): callers must serialise ``ensure_route``/``remove_route`` per
    tunnel (the control plane holds a PostgreSQL advisory lock around them).
    """

    async def list_tunnels(self) -> list[TunnelInfo]: ...

    async def get_ingress(self, tunnel_id: str) -> list[IngressRule]: ...

    async def put_ingress(self, tunnel_id: str, rules: Sequence[IngressRule]) -> None: ...

    async def ensure_route(
        self,
        tunnel_id: str,
        hostname: str,
        service: str,
        *,
        block_database_manager: bool = True,
        extra_rules: Sequence[IngressRule] = (),
    ) -> bool: ...

    async def remove_route(self, tunnel_id: str, hostname: str) -> bool: ...

    async def find_cname(self, hostname: str) -> DnsRecord | None: ...

    async def ensure_cname(self, hostname: str, tunnel_id: str) -> DnsRecord: ...

    async def remove_cname(self, hostname: str) -> bool: ...

    async def aclose(self) -> None: ...


CloudflareManagerProtocol = TunnelRouter
"""Alias under the name ARCHITECTURE.md uses for the capability."""
