"""Cloudflare Tunnel ingress and DNS through the official ``cloudflare`` SDK.

Every public method is idempotent: it reads, compares and writes only what differs, so a
provisioning step can be re-run after a crash. Tunnel configuration PUT replaces the whole
document without a concurrency check, so ``ensure_route``/``remove_route``/``put_ingress``
must be serialised per tunnel by the caller (the control plane holds a PostgreSQL
advisory lock); this driver does not lock. SDK exceptions become :class:`DriverError`
with Spanish messages; the API token never appears in them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import cloudflare
import httpx
from cloudflare import AsyncCloudflare

from erp_core.drivers.base import (
    CATCH_ALL_SERVICE,
    DATABASE_MANAGER_PATH,
    CustomHostname,
    DnsInstruction,
    DnsRecord,
    DriverError,
    FallbackOrigin,
    IngressRule,
    PermanentDriverError,
    SslMethod,
    TransientDriverError,
    TunnelInfo,
)

__all__ = ["CloudflareManager"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_RECORD_EXISTS = 81053
_MAX_PAGES = 1000
_CUSTOM_HOSTNAMES_MAX_PER_PAGE = 50  # the API's documented maximum (minimum 5)
TUNNEL_DOMAIN = "cfargotunnel.com"


def _is_catch_all(rule: dict[str, Any]) -> bool:
    return not rule.get("hostname") and not rule.get("path")


def _error_codes(body: object) -> list[tuple[int, str]]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [
        (int(e.get("code", 0)), str(e.get("message", "")))
        for e in errors or []
        if isinstance(e, dict)
    ]


def _to_record(raw: Any) -> DnsRecord:
    return DnsRecord(
        id=str(raw.id),
        name=str(raw.name),
        content=str(raw.content),
        proxied=bool(raw.proxied),
        type=str(raw.type),
    )


def _field(raw: Any, name: str) -> Any:
    """Read a field of an SDK model or a plain dict (the SDK keeps unknown fields)."""
    if raw is None:
        return None
    if isinstance(raw, dict):
        return raw.get(name)
    return getattr(raw, name, None)


def _to_custom_hostname(raw: Any) -> CustomHostname:
    """Flatten Cloudflare's custom hostname into what the domain shows the customer.

    The ownership TXT is pending while the hostname's status is not ``active``; the SSL
    DCV records while the certificate is not ``active`` (Cloudflare drops them then).
    """
    hostname = str(_field(raw, "hostname") or "")
    status = str(_field(raw, "status") or "pending")
    ssl = _field(raw, "ssl")
    ssl_status = str(_field(ssl, "status") or "initializing")
    records: list[DnsInstruction] = []
    ownership = _field(raw, "ownership_verification")
    if status != "active" and _field(ownership, "name") and _field(ownership, "value"):
        records.append(
            DnsInstruction(
                "TXT", str(_field(ownership, "name")), str(_field(ownership, "value")), "ownership"
            )
        )
    if ssl_status != "active":
        for record in _field(ssl, "validation_records") or []:
            if _field(record, "txt_name") and _field(record, "txt_value"):
                records.append(
                    DnsInstruction(
                        "TXT",
                        str(_field(record, "txt_name")),
                        str(_field(record, "txt_value")),
                        "ssl",
                    )
                )
    errors = [str(e) for e in _field(raw, "verification_errors") or []]
    errors += [
        str(_field(e, "message"))
        for e in _field(ssl, "validation_errors") or []
        if _field(e, "message")
    ]
    created = _field(raw, "created_at")
    if isinstance(created, str):
        try:
            created = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            created = None
    return CustomHostname(
        id=str(_field(raw, "id")),
        hostname=hostname,
        status=status,
        ssl_status=ssl_status,
        ssl_method=str(_field(ssl, "method") or ""),
        records=tuple(records),
        errors=tuple(errors),
        custom_origin_server=_field(raw, "custom_origin_server") or None,
        created_at=created if isinstance(created, datetime) else None,
    )


class CustomHostnamesMixin:
    """Cloudflare for SaaS custom hostnames and the zone's fallback origin (issue 17).

    Mixed into :class:`CloudflareManager`; uses its client, zone and error mapping.
    """

    zone_id: str
    page_size: int
    _client: AsyncCloudflare

    if TYPE_CHECKING:

        async def _call(self, operation: str, call: Callable[[], Awaitable[_T]]) -> _T: ...

        async def _all_pages(
            self, operation: str, fetch: Callable[[int], Awaitable[Any]]
        ) -> list[Any]: ...

        async def _read_config(self, tunnel_id: str) -> dict[str, Any]: ...

        async def _write_config(self, tunnel_id: str, config: dict[str, Any]) -> None: ...

    async def create_custom_hostname(
        self, hostname: str, *, ssl_method: SslMethod = "txt"
    ) -> CustomHostname:
        """POST a DV custom hostname; Cloudflare answers with the records it waits for."""
        hostname = hostname.lower()
        raw = await self._call(
            f"crear el dominio personalizado {hostname}",
            lambda: self._client.custom_hostnames.create(
                zone_id=self.zone_id,
                hostname=hostname,
                ssl={"method": ssl_method, "type": "dv"},
            ),
        )
        logger.info("custom hostname %s created", hostname)
        return _to_custom_hostname(raw)

    async def get_custom_hostname(self, custom_hostname_id: str) -> CustomHostname | None:
        """The hostname's current state, or None when Cloudflare no longer has it."""
        try:
            raw = await self._call(
                "consultar el dominio personalizado",
                lambda: self._client.custom_hostnames.get(custom_hostname_id, zone_id=self.zone_id),
            )
        except PermanentDriverError as exc:
            if exc.status_code == 404:
                return None
            raise
        return _to_custom_hostname(raw)

    async def _list(self, operation: str, hostname: str | None) -> list[CustomHostname]:
        # ``hostname`` as a plain query parameter is the documented exact filter.
        extra_query = {"hostname": hostname} if hostname else None
        per_page = max(5, min(self.page_size, _CUSTOM_HOSTNAMES_MAX_PER_PAGE))
        api = self._client.custom_hostnames

        async def fetch(page: int) -> Any:
            return await api.list(
                zone_id=self.zone_id, page=page, per_page=per_page, extra_query=extra_query
            )

        saved, self.page_size = self.page_size, per_page
        try:
            raw = await self._all_pages(operation, fetch)
        finally:
            self.page_size = saved
        return [_to_custom_hostname(item) for item in raw]

    async def find_custom_hostname(self, hostname: str) -> CustomHostname | None:
        hostname = hostname.lower()
        found = await self._list(f"buscar el dominio personalizado {hostname}", hostname)
        return next((h for h in found if h.hostname.lower() == hostname), None)

    async def list_custom_hostnames(self) -> list[CustomHostname]:
        """Every custom hostname of the zone (all pages, honouring total_pages)."""
        return await self._list("listar los dominios personalizados", None)

    async def set_custom_origin(self, custom_hostname_id: str, origin: str) -> CustomHostname:
        """PATCH ``custom_origin_server``: route this hostname to ``origin`` (a proxied
        hostname of the zone, i.e. the tenant's own tunnel) instead of the fallback."""
        raw = await self._call(
            "asignar el origen del dominio personalizado",
            lambda: self._client.custom_hostnames.edit(
                custom_hostname_id, zone_id=self.zone_id, custom_origin_server=origin
            ),
        )
        return _to_custom_hostname(raw)

    async def ensure_custom_hostname(
        self, hostname: str, *, ssl_method: SslMethod = "txt", origin: str | None = None
    ) -> CustomHostname:
        """Find or create the hostname, then make its custom origin ``origin``.

        A create that loses a race (Cloudflare answers 409 for a duplicate) re-reads.
        """
        found = await self.find_custom_hostname(hostname)
        if found is None:
            try:
                found = await self.create_custom_hostname(hostname, ssl_method=ssl_method)
            except PermanentDriverError as exc:
                if exc.status_code != 409:
                    raise
                found = await self.find_custom_hostname(hostname)
                if found is None:
                    raise
        if origin and (found.custom_origin_server or "").lower() != origin.lower():
            found = await self.set_custom_origin(found.id, origin)
        return found

    async def delete_custom_hostname(self, custom_hostname_id: str) -> bool:
        """Delete it; False when it was already gone (idempotent)."""
        try:
            await self._call(
                "eliminar el dominio personalizado",
                lambda: self._client.custom_hostnames.delete(
                    custom_hostname_id, zone_id=self.zone_id
                ),
            )
        except PermanentDriverError as exc:
            if exc.status_code == 404:
                return False
            raise
        return True

    async def get_fallback_origin(self) -> FallbackOrigin | None:
        try:
            raw = await self._call(
                "consultar el origen de respaldo",
                lambda: self._client.custom_hostnames.fallback_origin.get(zone_id=self.zone_id),
            )
        except PermanentDriverError as exc:
            if exc.status_code == 404:
                return None
            raise
        origin = _field(raw, "origin")
        if not origin:
            return None
        return FallbackOrigin(str(origin), str(_field(raw, "status") or "pending_deployment"))

    async def set_fallback_origin(self, origin: str) -> FallbackOrigin:
        raw = await self._call(
            "asignar el origen de respaldo",
            lambda: self._client.custom_hostnames.fallback_origin.update(
                zone_id=self.zone_id, origin=origin
            ),
        )
        return FallbackOrigin(
            str(_field(raw, "origin") or origin), str(_field(raw, "status") or "pending_deployment")
        )

    async def ensure_host_route(
        self, tunnel_id: str, hostname: str, service: str, *, http_host_header: str
    ) -> bool:
        """Route a custom hostname to ``service`` with the origin's Host rewritten.

        Odoo's dbfilter picks the database from the Host, so a customer's own domain
        must reach Odoo as ``<subdomain>.<BASE_DOMAIN>``. The database manager stays
        blocked. Read-modify-write: the caller holds the tunnel's lock.
        """
        hostname = hostname.lower()
        desired: list[dict[str, Any]] = [
            {"hostname": hostname, "path": DATABASE_MANAGER_PATH, "service": CATCH_ALL_SERVICE},
            {
                "hostname": hostname,
                "service": service,
                "originRequest": {"httpHostHeader": http_host_header},
            },
        ]
        config = await self._read_config(tunnel_id)
        current: list[dict[str, Any]] = list(config.get("ingress") or [])
        new_ingress = CloudflareManager._replace_rules(current, hostname, desired)
        if new_ingress == current:
            return False
        await self._write_config(tunnel_id, {**config, "ingress": new_ingress})
        logger.info("tunnel %s: custom route %s -> %s", tunnel_id, hostname, service)
        return True


class CloudflareManager(CustomHostnamesMixin):
    """Tunnel routes and DNS records of one account and one zone.

    ``max_retries`` is the SDK's own retry count (backoff honouring ``Retry-After``);
    keep it small, the job queue retries :class:`TransientDriverError` with its own
    backoff. ``page_size`` is how many items each list request asks for.
    """

    def __init__(
        self,
        api_token: str,
        *,
        account_id: str,
        zone_id: str,
        base_url: str | None = None,
        max_retries: int = 1,
        timeout: float = 30.0,
        page_size: int = 100,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.account_id = account_id
        self.zone_id = zone_id
        self.page_size = page_size
        self._client = AsyncCloudflare(
            api_token=api_token,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            http_client=http_client,
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> CloudflareManager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- error mapping --------------------------------------------------------------
    async def _call(self, operation: str, call: Callable[[], Awaitable[_T]]) -> _T:
        """Run one SDK call, mapping its exceptions onto the driver's errors."""
        try:
            return await call()
        except cloudflare.APITimeoutError:
            raise TransientDriverError(
                f"Cloudflare no respondió a tiempo al {operation}", vendor_detail="timeout"
            ) from None
        except cloudflare.APIConnectionError as exc:
            raise TransientDriverError(
                f"No se pudo conectar con Cloudflare al {operation}",
                vendor_detail=f"{type(exc).__name__}: {exc.message}",
            ) from None
        except cloudflare.APIStatusError as exc:
            raise self._status_error(exc, operation) from None
        except cloudflare.APIError as exc:
            raise DriverError(
                f"Cloudflare devolvió una respuesta inesperada al {operation}",
                vendor_detail=f"{type(exc).__name__}: {exc.message}",
            ) from None

    @staticmethod
    def _status_error(exc: cloudflare.APIStatusError, operation: str) -> DriverError:
        status = exc.status_code
        codes = _error_codes(exc.body)
        detail = f"HTTP {status}: " + "; ".join(f"{code} {text}" for code, text in codes)
        code = str(codes[0][0]) if codes else None
        kwargs: dict[str, Any] = {
            "vendor_detail": detail,
            "vendor_code": code,
            "status_code": status,
        }
        if status == 429:
            return TransientDriverError(
                f"Cloudflare limitó las solicitudes (HTTP 429) al {operation}; reintente más tarde",
                **kwargs,
            )
        if status >= 500:
            return TransientDriverError(
                f"Cloudflare respondió con un error temporal (HTTP {status}) al {operation}",
                **kwargs,
            )
        if status in (401, 403):
            return PermanentDriverError(
                f"Cloudflare rechazó el token de API al {operation}: revise sus permisos",
                **kwargs,
            )
        if status == 404:
            return PermanentDriverError(
                f"Cloudflare no encontró el recurso al {operation}", **kwargs
            )
        return PermanentDriverError(f"Cloudflare rechazó la solicitud al {operation}", **kwargs)

    async def _all_pages(self, operation: str, fetch: Callable[[int], Awaitable[Any]]) -> list[Any]:
        """Walk ``page`` 1..total_pages. Cloudflare's lists report ``total_pages`` (or a
        ``total_count``); a short page also ends the walk, so a server that never
        reports totals cannot make this loop forever."""
        items: list[Any] = []
        for page_number in range(1, _MAX_PAGES + 1):
            page = await self._call(operation, functools.partial(fetch, page_number))
            batch = list(page.result or [])
            items.extend(batch)
            info = page.result_info
            total_pages = getattr(info, "total_pages", None) if info else None
            total_count = getattr(info, "total_count", None) if info else None
            if total_pages is None and total_count is not None:
                total_pages = -(-int(total_count) // self.page_size)
            if total_pages is not None:
                if page_number >= int(total_pages):
                    break
            elif len(batch) < self.page_size:
                break
            if not batch:
                break
        return items

    # --- tunnels --------------------------------------------------------------------
    async def list_tunnels(self) -> list[TunnelInfo]:
        """Live (not deleted) tunnels with their cloudflared connection counts."""
        tunnels_api = self._client.zero_trust.tunnels.cloudflared

        async def fetch(page: int) -> Any:
            return await tunnels_api.list(
                account_id=self.account_id, is_deleted=False, page=page, per_page=self.page_size
            )

        raw = await self._all_pages("listar los túneles", fetch)
        return [
            TunnelInfo(
                id=str(t.id),
                name=str(t.name or ""),
                status=str(t.status or "inactive"),
                connections=len(t.connections or []),
                created_at=t.created_at if isinstance(t.created_at, datetime) else None,
            )
            for t in raw
        ]

    async def _read_config(self, tunnel_id: str) -> dict[str, Any]:
        operation = f"leer la configuración del túnel {tunnel_id}"
        response = await self._call(
            operation,
            lambda: self._client.zero_trust.tunnels.cloudflared.configurations.get(
                tunnel_id, account_id=self.account_id
            ),
        )
        config = response.config if response is not None else None
        return dict(config.to_dict(mode="json")) if config is not None else {}

    async def _write_config(self, tunnel_id: str, config: dict[str, Any]) -> None:
        operation = f"guardar la configuración del túnel {tunnel_id}"
        await self._call(
            operation,
            lambda: self._client.zero_trust.tunnels.cloudflared.configurations.update(
                tunnel_id, account_id=self.account_id, config=cast(Any, config)
            ),
        )

    async def get_ingress(self, tunnel_id: str) -> list[IngressRule]:
        config = await self._read_config(tunnel_id)
        return [
            IngressRule(
                hostname=r.get("hostname") or None, service=r["service"], path=r.get("path")
            )
            for r in config.get("ingress") or []
        ]

    async def put_ingress(self, tunnel_id: str, rules: Sequence[IngressRule]) -> None:
        """Replace the ingress list (other config keys kept). The caller serialises."""
        config = await self._read_config(tunnel_id)
        ingress = [rule.as_api_dict() for rule in rules]
        if not ingress or not _is_catch_all(ingress[-1]):
            ingress.append({"service": CATCH_ALL_SERVICE})
        await self._write_config(tunnel_id, {**config, "ingress": ingress})

    async def ensure_route(
        self,
        tunnel_id: str,
        hostname: str,
        service: str,
        *,
        block_database_manager: bool = True,
        extra_rules: Sequence[IngressRule] = (),
    ) -> bool:
        """Route ``hostname`` to ``service``; True when the configuration was written.

        The hostname's rules (``extra_rules`` first, then a 404 for Odoo's database
        manager, then the main rule) replace any earlier ones in place; the catch-all
        stays last. Rules of other hostnames, and ``originRequest`` settings, are kept.
        Read-modify-write: the caller must hold the tunnel's lock.
        """
        hostname = hostname.lower()
        desired: list[dict[str, Any]] = [rule.as_api_dict() for rule in extra_rules]
        if block_database_manager:
            desired.append(
                {"hostname": hostname, "path": DATABASE_MANAGER_PATH, "service": CATCH_ALL_SERVICE}
            )
        desired.append({"hostname": hostname, "service": service})
        config = await self._read_config(tunnel_id)
        current: list[dict[str, Any]] = list(config.get("ingress") or [])
        new_ingress = self._replace_rules(current, hostname, desired)
        if new_ingress == current:
            return False
        await self._write_config(tunnel_id, {**config, "ingress": new_ingress})
        logger.info("tunnel %s: route for %s set to %s", tunnel_id, hostname, service)
        return True

    async def remove_route(self, tunnel_id: str, hostname: str) -> bool:
        """Remove every rule for ``hostname``; True when the configuration was written."""
        config = await self._read_config(tunnel_id)
        current: list[dict[str, Any]] = list(config.get("ingress") or [])
        new_ingress = self._replace_rules(current, hostname.lower(), [])
        if new_ingress == current:
            return False
        await self._write_config(tunnel_id, {**config, "ingress": new_ingress})
        logger.info("tunnel %s: routes for %s removed", tunnel_id, hostname)
        return True

    @staticmethod
    def _replace_rules(
        current: list[dict[str, Any]], hostname: str, desired: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Put ``desired`` where the hostname's first rule was (or before the catch-all)
        and end with exactly one catch-all."""
        catch_alls = [rule for rule in current if _is_catch_all(rule)]
        others = [rule for rule in current if not _is_catch_all(rule)]
        position = next(
            (
                i
                for i, rule in enumerate(others)
                if str(rule.get("hostname", "")).lower() == hostname
            ),
            len(others),
        )
        kept = [rule for rule in others if str(rule.get("hostname", "")).lower() != hostname]
        position = min(position, len(kept))
        catch_all = catch_alls[-1] if catch_alls else {"service": CATCH_ALL_SERVICE}
        return [*kept[:position], *desired, *kept[position:], catch_all]

    # --- DNS ------------------------------------------------------------------------
    async def _list_records(self, operation: str, **filters: Any) -> list[DnsRecord]:
        # ``name`` as a plain query parameter is the documented exact-name filter
        # (2024-08 schema); the SDK's ``name={"exact": …}`` spells it ``name.exact``.
        extra_query = {"name": filters.pop("name")} if "name" in filters else None
        records_api = self._client.dns.records

        async def fetch(page: int) -> Any:
            return await records_api.list(
                zone_id=self.zone_id,
                page=page,
                per_page=self.page_size,
                extra_query=extra_query,
                **filters,
            )

        return [_to_record(raw) for raw in await self._all_pages(operation, fetch)]

    async def list_cnames(self) -> list[DnsRecord]:
        """Every CNAME of the zone (all pages), e.g. to find orphans of deleted tunnels."""
        return await self._list_records("listar los registros DNS", type="CNAME")

    async def find_cname(self, hostname: str) -> DnsRecord | None:
        records = await self._list_records(
            f"buscar el registro DNS de {hostname}", name=hostname.lower(), type="CNAME"
        )
        return records[0] if records else None

    async def ensure_cname(self, hostname: str, tunnel_id: str) -> DnsRecord:
        """A proxied CNAME ``hostname → <tunnel_id>.cfargotunnel.com`` exists on return.

        Creates it if absent, corrects content/proxied if they differ, and treats error
        81053 (someone created it meanwhile) as a lost race: re-read and converge.
        """
        hostname = hostname.lower()
        target = f"{tunnel_id}.{TUNNEL_DOMAIN}"
        record = await self.find_cname(hostname)
        if record is None:
            try:
                return await self._create_cname(hostname, target)
            except DriverError as exc:
                if exc.vendor_code != str(_RECORD_EXISTS):
                    raise
                record = await self.find_cname(hostname)
                if record is None:
                    raise PermanentDriverError(
                        f"Ya existe otro registro DNS (A o AAAA) para {hostname}; "
                        "elimínelo antes de publicar el subdominio",
                        vendor_detail=exc.vendor_detail,
                        vendor_code=exc.vendor_code,
                        status_code=exc.status_code,
                    ) from None
        if record.content.lower() == target and record.proxied:
            return record
        return await self._update_cname(record, target)

    async def _create_cname(self, hostname: str, target: str) -> DnsRecord:
        raw = await self._call(
            f"crear el registro DNS de {hostname}",
            lambda: self._client.dns.records.create(
                zone_id=self.zone_id,
                type="CNAME",
                name=hostname,
                content=target,
                proxied=True,
                ttl=1,
            ),
        )
        logger.info("dns: CNAME %s -> %s created", hostname, target)
        return _to_record(raw)

    async def _update_cname(self, record: DnsRecord, target: str) -> DnsRecord:
        raw = await self._call(
            f"actualizar el registro DNS de {record.name}",
            lambda: self._client.dns.records.update(
                record.id,
                zone_id=self.zone_id,
                type="CNAME",
                name=record.name,
                content=target,
                proxied=True,
                ttl=1,
            ),
        )
        logger.info("dns: CNAME %s repointed to %s", record.name, target)
        return _to_record(raw)

    async def remove_cname(self, hostname: str) -> bool:
        """Delete the hostname's CNAME; False when there was none (idempotent)."""
        record = await self.find_cname(hostname)
        if record is None:
            return False
        try:
            await self._call(
                f"eliminar el registro DNS de {hostname}",
                lambda: self._client.dns.records.delete(record.id, zone_id=self.zone_id),
            )
        except PermanentDriverError as exc:
            if exc.status_code != 404:
                raise
            return False
        return True


def preload_sdk() -> None:
    """Import the SDK's lazily-loaded resource modules now (~1 s of imports on first access).

    Without this, the first tunnel or DNS call in a process blocks the event loop while
    Python imports them, stalling every other request and job for that second.
    """
    client = AsyncCloudflare(api_token="preload", base_url="http://127.0.0.1:9")  # noqa: S106
    _ = client.zero_trust.tunnels.cloudflared.configurations
    _ = client.dns.records
    _ = client.custom_hostnames.fallback_origin
