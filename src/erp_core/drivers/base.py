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
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

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


class CompanyProfile(TypedDict):
    """How a new tenant database is personalised (same result in RPC and host mode)."""

    company_name: str
    email: str
    country_code: str | None
    lang: str
    base_url: str


@dataclass(frozen=True)
class Personalization:
    """What personalising a fresh database writes, decided once for both drivers.

    RPC mode applies it with ``execute_kw`` calls, host mode with one ``odoo-bin shell``
    script; only the transport differs, so a tenant ends up identical on either (host mode
    once set the country alone: a Spanish tenant kept USD and no company e-mail). The one
    rule both transports implement: ``country_code`` sets the company's country *and* that
    country's currency, activated first (Odoo ships most currencies inactive).
    """

    company: dict[str, str]
    """``res.company`` values of the main company (id 1)."""
    country_code: str | None
    admin: dict[str, str]
    """``res.users`` values of the tenant's administrator."""
    config: tuple[tuple[str, str], ...]
    """``ir.config_parameter.set_param`` calls, in order: ``web.base.url`` is frozen, or the
    first admin login through another address rewrites it."""

    def as_json(self) -> dict[str, Any]:
        """The plan as plain JSON (host mode sends it on stdin to its shell script)."""
        return {
            "company": self.company,
            "country_code": self.country_code,
            "admin": self.admin,
            "config": [list(pair) for pair in self.config],
        }


def personalization(profile: CompanyProfile) -> Personalization:
    """The writes that make a fresh database the customer's (see :class:`Personalization`)."""
    country = profile.get("country_code")
    return Personalization(
        company={"name": profile["company_name"], "email": profile["email"]},
        country_code=str(country).upper() if country else None,
        admin={"lang": profile["lang"]},
        config=(("web.base.url", profile["base_url"]), ("web.base.url.freeze", "True")),
    )


PAUSED_CRONS_PARAM = "erp_core.paused_crons"
"""``ir.config_parameter`` of a template database: the ids of the scheduled actions its build
switched off, so each clone switches exactly those back on (see ``pause_crons``)."""

SERVICE_LOGIN_PREFIX = "erp-core-service@"
"""Every service user's login is this prefix plus ``BASE_DOMAIN``: usage readers recognise
the control plane's own user by it and never count it as the customer's."""


class ServiceUser(TypedDict):
    """The control plane's own user inside a tenant database (issues 13/17/18): an internal
    user with Settings rights whose password only the control plane knows, so it can act
    on the tenant after creation without keeping the admin's password."""

    login: str
    password: str
    name: str


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

    async def personalize(
        self, db: str, login: str, password: str, profile: CompanyProfile
    ) -> None: ...

    async def take_over_admin(
        self, db: str, login: str, password: str, new_login: str, new_password: str
    ) -> int: ...

    async def hand_over_admin(
        self,
        db: str,
        login: str,
        password: str,
        admin_login: str,
        new_login: str,
        *,
        lang: str,
        new_password: str | None = None,
    ) -> None: ...

    async def pause_crons(self, db: str, login: str, password: str) -> list[int]: ...

    async def resume_crons(self, db: str, login: str, password: str) -> list[int]: ...

    async def install_modules(
        self, db: str, login: str, password: str, modules: list[str]
    ) -> list[str]: ...

    async def ensure_service_user(
        self, db: str, login: str, password: str, user: ServiceUser
    ) -> None: ...

    async def set_user_password(
        self, db: str, login: str, password: str, target_login: str, new_password: str
    ) -> None: ...

    async def drop_database(self, name: str) -> bool: ...

    async def duplicate_database(self, src: str, new: str, *, neutralize: bool = False) -> None: ...

    async def rename_database(self, old: str, new: str) -> None: ...

    async def change_master_password(self, new_password: str) -> None: ...

    def backup_stream(self, name: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]: ...

    async def restore_from_file(
        self, name: str, path: Path, *, copy: bool = True, neutralize: bool = False
    ) -> None: ...

    async def health(self, *, management: bool = True) -> OdooHealth: ...

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


# --- Cloudflare for SaaS: custom hostnames (issue 17) ---------------------------------------

SslMethod = Literal["txt", "http"]


@dataclass(frozen=True, slots=True)
class DnsInstruction:
    """A DNS record the customer must create at their own DNS provider (name, type, value).

    ``purpose`` says why: ``routing`` (the CNAME that sends traffic to us), ``ownership``
    (Cloudflare's TXT proving the hostname is theirs) or ``ssl`` (the certificate's DCV TXT).
    """

    type: str
    name: str
    value: str
    purpose: str


@dataclass(frozen=True, slots=True)
class CustomHostname:
    """A Cloudflare for SaaS custom hostname as the domain needs it.

    ``status`` is the hostname's activation (``pending`` until Cloudflare sees the
    customer's DNS, then ``active``); ``ssl_status`` the certificate's (``active`` once
    issued and deployed). ``records`` are the TXT records Cloudflare still waits for;
    ``errors`` its verification / validation messages, in English as it sends them.
    """

    id: str
    hostname: str
    status: str
    ssl_status: str
    ssl_method: str
    records: tuple[DnsInstruction, ...] = ()
    errors: tuple[str, ...] = ()
    custom_origin_server: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FallbackOrigin:
    """The zone's fallback origin: where custom hostnames without their own origin go."""

    origin: str
    status: str


@runtime_checkable
class CustomHostnameManager(Protocol):
    """Custom hostnames of the product's zone (Cloudflare for SaaS) and their ingress.

    Every method is idempotent. ``ensure_host_route`` is a tunnel read-modify-write like
    ``TunnelRouter.ensure_route``: callers hold the tunnel's lock around it.
    """

    async def create_custom_hostname(
        self, hostname: str, *, ssl_method: SslMethod = "txt"
    ) -> CustomHostname: ...

    async def get_custom_hostname(self, custom_hostname_id: str) -> CustomHostname | None: ...

    async def find_custom_hostname(self, hostname: str) -> CustomHostname | None: ...

    async def list_custom_hostnames(self) -> list[CustomHostname]: ...

    async def set_custom_origin(self, custom_hostname_id: str, origin: str) -> CustomHostname: ...

    async def ensure_custom_hostname(
        self, hostname: str, *, ssl_method: SslMethod = "txt", origin: str | None = None
    ) -> CustomHostname: ...

    async def delete_custom_hostname(self, custom_hostname_id: str) -> bool: ...

    async def get_fallback_origin(self) -> FallbackOrigin | None: ...

    async def set_fallback_origin(self, origin: str) -> FallbackOrigin: ...

    async def ensure_host_route(
        self, tunnel_id: str, hostname: str, service: str, *, http_host_header: str
    ) -> bool: ...

    async def remove_route(self, tunnel_id: str, hostname: str) -> bool: ...

    async def aclose(self) -> None: ...


# --- Proxmox cluster (issue 4) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClusterResource:
    """One row of ``/cluster/resources``: a node or an LXC container (``type`` says which).

    ``cpu`` is a fraction of ``maxcpu`` (0..1); memory and disk are bytes; ``netin`` and
    ``netout`` are cumulative byte counters (containers only; 0 for nodes).
    """

    type: str
    id: str
    node: str
    status: str
    vmid: int | None = None
    name: str | None = None
    cpu: float = 0.0
    maxcpu: int = 0
    mem: int = 0
    maxmem: int = 0
    disk: int = 0
    maxdisk: int = 0
    netin: int = 0
    netout: int = 0
    uptime: int = 0
    template: bool = False


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """``/nodes/{node}/status``: CPU fraction, core count, memory and root disk in bytes."""

    node: str
    cpu: float
    cpus: int
    mem_used: int
    mem_total: int
    disk_used: int
    disk_total: int


@dataclass(frozen=True, slots=True)
class ContainerState:
    """``/nodes/{node}/lxc/{vmid}/status/current`` (or one row of ``/nodes/{node}/lxc``)."""

    vmid: int
    node: str
    status: str
    name: str | None
    cpu: float
    cpus: int
    mem: int
    maxmem: int
    disk: int
    maxdisk: int
    netin: int
    netout: int
    uptime: int
    lock: str | None = None


@dataclass(frozen=True, slots=True)
class RrdPoint:
    """One ``rrddata`` sample; network and disk I/O fields are rates (bytes/s)."""

    time: datetime
    cpu: float | None
    maxcpu: float | None
    mem: float | None
    maxmem: float | None
    disk: float | None
    maxdisk: float | None
    netin: float | None
    netout: float | None


RrdTimeframe = Literal["hour", "day", "week", "month", "year"]


@runtime_checkable
class ClusterManager(Protocol):
    """A Proxmox VE cluster: inventory, LXC lifecycle and resource history.

    Every write Proxmox runs as a task is awaited here until it stops; a task whose
    ``exitstatus`` is not ``OK`` raises :class:`PermanentDriverError` with Proxmox's own
    text (``vendor_code="task_failed"``). A container id already in use raises with
    ``vendor_code="vmid_exists"``; a missing container with ``vendor_code="not_found"``.
    """

    async def cluster_resources(
        self, kind: Literal["node", "vm"] | None = None
    ) -> list[ClusterResource]: ...

    async def node_status(self, node: str) -> NodeStatus: ...

    async def list_containers(self, node: str) -> list[ContainerState]: ...

    async def container_status(self, node: str, vmid: int) -> ContainerState: ...

    async def container_config(self, node: str, vmid: int) -> dict[str, str]: ...

    async def clone_container(
        self,
        node: str,
        source_vmid: int,
        new_vmid: int,
        *,
        hostname: str,
        full: bool = True,
        storage: str | None = None,
        target_node: str | None = None,
    ) -> None: ...

    async def configure_container(
        self,
        node: str,
        vmid: int,
        *,
        cores: int,
        memory_mb: int,
        net0: str,
        onboot: bool = True,
        description: str | None = None,
    ) -> None: ...

    async def resize_disk(self, node: str, vmid: int, *, disk: str, size_gb: int) -> None: ...

    async def start_container(self, node: str, vmid: int) -> None: ...

    async def shutdown_container(self, node: str, vmid: int, *, timeout: int = 60) -> None: ...

    async def stop_container(self, node: str, vmid: int) -> None: ...

    async def destroy_container(self, node: str, vmid: int, *, purge: bool = True) -> None: ...

    async def rrddata(
        self,
        node: str,
        vmid: int | None = None,
        *,
        timeframe: RrdTimeframe = "hour",
        cf: Literal["AVERAGE", "MAX"] = "AVERAGE",
    ) -> list[RrdPoint]: ...

    async def aclose(self) -> None: ...


# --- Billing (Stripe) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillingPrice:
    """A recurring price as the domain needs it (amount in minor units per interval)."""

    id: str
    unit_amount: int
    currency: str
    interval: str
    interval_count: int
    active: bool
    product_id: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutLink:
    """A hosted checkout page opened for one sign-up."""

    id: str
    url: str


class WebhookRejected(PermanentDriverError):
    """A webhook whose payload or signature does not verify (never stored)."""


@runtime_checkable
class BillingGateway(Protocol):
    """Customers, prices, subscriptions, checkout sessions, invoices and coupons.

    Every create takes a deterministic ``idempotency_key`` so a retried job never creates a
    second object. Objects come back as plain JSON dicts (the vendor's documented shapes),
    the same shapes webhooks carry, so one code path stores both.
    """

    async def create_customer(
        self, *, email: str, name: str, metadata: dict[str, str], idempotency_key: str
    ) -> dict[str, object]: ...

    async def create_price(
        self,
        *,
        product_name: str,
        unit_amount: int,
        currency: str,
        interval: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> BillingPrice: ...

    async def get_price(self, price_id: str) -> BillingPrice: ...

    async def create_subscription(
        self,
        *,
        customer_id: str,
        price_id: str,
        metadata: dict[str, str],
        days_until_due: int,
        idempotency_key: str,
        quantity: int = 1,
    ) -> dict[str, object]: ...

    async def create_checkout_session(
        self,
        *,
        price_id: str,
        customer_email: str,
        metadata: dict[str, str],
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutLink: ...

    async def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]: ...

    async def expire_checkout_session(self, session_id: str) -> dict[str, Any]: ...

    def list_invoices(
        self, *, created_gte: int | None = None, page_size: int = 100
    ) -> AsyncIterator[dict[str, object]]: ...

    async def get_coupon(self, coupon_id: str) -> dict[str, object]: ...

    async def create_billing_portal_session(self, *, customer_id: str, return_url: str) -> str: ...

    async def change_subscription_price(
        self, *, subscription_id: str, price_id: str, idempotency_key: str
    ) -> dict[str, Any]: ...

    async def upcoming_invoice(
        self, *, customer_id: str, subscription_id: str
    ) -> dict[str, Any]: ...

    async def cancel_at_period_end(
        self, *, subscription_id: str, idempotency_key: str
    ) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class OdooConfigWriter(Protocol):
    """Write a system parameter (``ir.config_parameter``) of one tenant database.

    Custom domains (issue 17) set ``web.base.url`` through it: Odoo builds the links in
    its e-mails and portal from that parameter, so the primary domain must be there.
    """

    async def set_config_param(
        self, db: str, login: str, password: str, key: str, value: str
    ) -> None: ...

    async def verify_login(self, db: str, login: str, password: str) -> int: ...
