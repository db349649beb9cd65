"""Cloudflare v4 API emulator: tunnels, tunnel configurations and DNS records.

Shapes follow Cloudflare's published OpenAPI description (2024-08): the ``{success,
errors, messages, result, result_info}`` envelope, ``page``/``per_page`` pagination,
error 81053 for a second CNAME on one name, 401/10000 for a bad token. Routes live under
``/client/v4`` so the official SDK works with ``base_url=f"{server.url}/client/v4"``.
Every API request is appended to ``state.request_log`` for the contract tests.

Pseudo-operation for fault plans: ``cf.list_dns.stale`` makes the next DNS listings come
back empty, as a lookup that lost a race with another writer would.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from erp_core.lab.faults import FaultPlan, lab_control_routes

__all__ = ["CloudflareLabState", "LoggedRequest", "create_cloudflare_lab"]

API_PREFIX = "/client/v4"
_HOST_RECORD_TYPES = {"A", "AAAA", "CNAME"}
_SERVICE = re.compile(
    r"^(https?|tcp|ssh|rdp|smb|unix|unix\+tls)://|^http_status:\d{3}$|^hello_world$"
)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class LoggedRequest:
    """One API call as received and answered: what the contract tests compare with the
    vendor's description (request parameters and response shape)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any
    status: int = 0
    response: Any = None


class ApiFailure(Exception):
    """An error the emulator answers with the v4 envelope."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class CloudflareLabState:
    """One account and one zone. Tests may read and seed it directly (under ``lock``)."""

    api_token: str
    account_id: str
    zone_id: str
    zone_name: str
    tunnels: dict[str, dict[str, Any]] = field(default_factory=dict)
    configurations: dict[str, dict[str, Any]] = field(default_factory=dict)
    dns_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_hostnames: dict[str, dict[str, Any]] = field(default_factory=dict)
    fallback_origin: dict[str, Any] | None = None
    request_log: list[LoggedRequest] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def add_tunnel(self, name: str, *, connections: int = 2) -> str:
        """Create a remotely-managed tunnel with ``connections`` live cloudflared links."""
        tunnel_id = str(uuid.uuid4())
        with self.lock:
            self.tunnels[tunnel_id] = {
                "id": tunnel_id,
                "account_tag": self.account_id,
                "created_at": _now(),
                "deleted_at": None,
                "name": name,
                "connections": [],
                "conns_active_at": None,
                "conns_inactive_at": None,
                "tun_type": "cfd_tunnel",
                "metadata": {},
                "status": "inactive",
                "remote_config": True,
            }
        self.set_connections(tunnel_id, connections)
        return tunnel_id

    def set_connections(self, tunnel_id: str, count: int) -> None:
        """Simulate cloudflared replicas connecting or going away."""
        with self.lock:
            tunnel = self.tunnels[tunnel_id]
            was_active = bool(tunnel["connections"])
            tunnel["connections"] = [
                {
                    "id": str(uuid.uuid4()),
                    "client_id": str(uuid.uuid4()),
                    "client_version": "2024.8.2",
                    "colo_name": ("mia", "atl", "dfw", "iad")[i % 4] + "01",
                    "is_pending_reconnect": False,
                    "opened_at": _now(),
                    "origin_ip": "198.51.100.10",
                    "uuid": str(uuid.uuid4()),
                }
                for i in range(count)
            ]
            if count:
                tunnel["status"], tunnel["conns_active_at"] = "healthy", _now()
            elif was_active:
                tunnel["status"], tunnel["conns_inactive_at"] = "down", _now()

    def add_dns_record(self, name: str, content: str, *, type: str = "CNAME") -> dict[str, Any]:
        """Seed a record directly (bypasses faults and the request log)."""
        return self._insert_record({"name": name, "content": content, "type": type})

    def ingress(self, tunnel_id: str) -> list[dict[str, Any]]:
        """The tunnel's current ingress rules (a copy), for the lab edge."""
        with self.lock:
            config = (self.configurations.get(tunnel_id) or {}).get("config") or {}
            return [dict(rule) for rule in config.get("ingress") or []]

    def custom_hostname(self, hostname: str) -> dict[str, Any] | None:
        """The custom hostname record for ``hostname`` (a copy), for the lab edge."""
        with self.lock:
            for record in self.custom_hostnames.values():
                if record["hostname"] == hostname.lower():
                    return dict(record)
        return None

    def publish(self, hostname: str, *, ssl_status: str = "active") -> dict[str, Any]:
        """Play the customer creating their CNAME and ownership TXT: Cloudflare sees
        them, the hostname turns ``active`` and the certificate moves to ``ssl_status``
        (``active`` when its DCV record is there too; ``pending_validation`` to stop
        half-way; ``validation_timed_out`` for a certificate that never validates)."""
        with self.lock:
            record = next(
                (r for r in self.custom_hostnames.values() if r["hostname"] == hostname.lower()),
                None,
            )
            if record is None:
                raise KeyError(hostname)
            record["status"] = "active"
            record["verification_errors"] = []
            ssl = record["ssl"]
            ssl["status"] = ssl_status
            if ssl_status == "active":
                ssl["validation_records"] = []
                ssl["issuer"] = "GoogleTrustServices"
                ssl["expires_on"] = "2027-03-05T00:00:00Z"
            elif ssl_status.endswith("timed_out"):
                ssl["validation_errors"] = [
                    {"message": "Timed out waiting for the DCV record to be published."}
                ]
            return dict(record)

    def reset(self) -> None:
        with self.lock:
            self.configurations.clear()
            self.dns_records.clear()
            self.custom_hostnames.clear()
            self.fallback_origin = None
            self.request_log.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "tunnels": list(self.tunnels.values()),
                "configurations": dict(self.configurations),
                "dns_records": list(self.dns_records.values()),
                "custom_hostnames": list(self.custom_hostnames.values()),
                "fallback_origin": self.fallback_origin,
                "requests": len(self.request_log),
            }

    def fqdn(self, name: str) -> str:
        name = name.strip().rstrip(".").lower()
        if name in ("@", "", self.zone_name):
            return self.zone_name
        return name if name.endswith("." + self.zone_name) else f"{name}.{self.zone_name}"

    def _insert_record(self, body: dict[str, Any]) -> dict[str, Any]:
        record_type = str(body.get("type", "")).upper()
        if not record_type or not body.get("name") or body.get("content") in (None, ""):
            raise ApiFailure(400, 9005, "Content for a record is invalid: type, name, content.")
        name = self.fqdn(str(body["name"]))
        with self.lock:
            for other in self.dns_records.values():
                if other["name"] != name:
                    continue
                if "CNAME" in (record_type, other["type"]) and record_type in _HOST_RECORD_TYPES:
                    raise ApiFailure(
                        400, 81053, "An A, AAAA, or CNAME record with that host already exists."
                    )
                if other["type"] == record_type and other["content"] == body["content"]:
                    raise ApiFailure(400, 81058, "An identical record already exists.")
            record: dict[str, Any] = {
                "id": uuid.uuid4().hex,
                "name": name,
                "type": record_type,
                "content": str(body["content"]),
                "proxiable": record_type in _HOST_RECORD_TYPES,
                "proxied": bool(body.get("proxied", False)),
                "ttl": int(body.get("ttl", 1)),
                "meta": {"auto_added": False, "source": "primary"},
                "comment": body.get("comment"),
                "tags": list(body.get("tags") or []),
                "created_on": _now(),
                "modified_on": _now(),
            }
            self.dns_records[record["id"]] = record
            return dict(record)


def envelope(result: Any, result_info: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def _error_body(code: int, message: str) -> dict[str, Any]:
    return {
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": None,
    }


def _paginate(
    request: Request, items: list[Any], default_per_page: int
) -> tuple[list[Any], dict[str, Any]]:
    try:
        page = max(1, int(float(request.query_params.get("page", 1))))
        per_page = max(1, int(float(request.query_params.get("per_page", default_per_page))))
    except ValueError as exc:
        raise ApiFailure(400, 1001, f"Invalid pagination parameter: {exc}") from exc
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": max(1, math.ceil(len(items) / per_page)),
    }
    return chunk, info


def _validate_config(config: Any) -> None:
    if not isinstance(config, dict):
        raise ApiFailure(400, 1056, "Validation failed: config must be an object")
    ingress = config.get("ingress", [])
    if not isinstance(ingress, list):
        raise ApiFailure(400, 1056, "Validation failed: ingress must be a list")
    for index, rule in enumerate(ingress):
        if not isinstance(rule, dict) or not isinstance(rule.get("service"), str):
            raise ApiFailure(400, 1056, f"Validation failed: rule #{index + 1} has no service")
        if not _SERVICE.match(rule["service"]):
            raise ApiFailure(
                400, 1056, f"Validation failed: unsupported service {rule['service']!r}"
            )
        if rule.get("path"):
            try:
                re.compile(str(rule["path"]))
            except re.error as exc:
                raise ApiFailure(400, 1056, f"Validation failed: bad path regex: {exc}") from exc
    if ingress and (ingress[-1].get("hostname") or ingress[-1].get("path")):
        raise ApiFailure(
            400,
            1056,
            "Validation failed: The last ingress rule must match all URLs "
            "(i.e. it should not have a hostname or path filter)",
        )


class _CloudflareLab:
    def __init__(self, state: CloudflareLabState, faults: FaultPlan) -> None:
        self.state = state
        self.faults = faults

    def route(self, path: str, operation: str, methods: list[str]) -> Route:
        handler = getattr(self, operation.removeprefix("cf."))

        async def endpoint(request: Request) -> Response:
            body: Any = None
            if request.method in ("POST", "PUT", "PATCH"):
                try:
                    body = await request.json()
                except ValueError:
                    body = None
            entry = LoggedRequest(
                request.method, request.url.path, tuple(request.query_params.multi_items()), body
            )
            with self.state.lock:
                self.state.request_log.append(entry)
            status, payload = await self._answer(request, operation, handler, body)
            entry.status, entry.response = status, payload
            return JSONResponse(payload, status_code=status)

        return Route(API_PREFIX + path, endpoint, methods=methods)

    async def _answer(
        self, request: Request, operation: str, handler: Any, body: Any
    ) -> tuple[int, dict[str, Any]]:
        """Authenticate, apply faults, run the handler: (status, envelope)."""
        if request.headers.get("authorization") != f"Bearer {self.state.api_token}":
            return 401, _error_body(10000, "Authentication error")
        params = request.path_params
        if (
            params.get("account_id", self.state.account_id) != self.state.account_id
            or params.get("zone_id", self.state.zone_id) != self.state.zone_id
        ):
            return 403, _error_body(10000, "Authentication error")
        failure = await self.faults.apply(operation)
        if failure is not None:
            code = failure.error_code or (971 if failure.status == 429 else 10001)
            return failure.status, _error_body(code, failure.message or "Injected failure")
        try:
            return 200, handler(request, body)
        except ApiFailure as exc:
            return exc.status, _error_body(exc.code, exc.message)

    # --- tunnels -------------------------------------------------------------------
    def _tunnel(self, request: Request) -> dict[str, Any]:
        tunnel = self.state.tunnels.get(request.path_params["tunnel_id"])
        if tunnel is None or tunnel["deleted_at"]:
            raise ApiFailure(404, 1003, "Tunnel not found")
        return tunnel

    def list_tunnels(self, request: Request, body: Any) -> dict[str, Any]:
        query = request.query_params
        with self.state.lock:
            tunnels = list(self.state.tunnels.values())
        if query.get("is_deleted") == "false":
            tunnels = [t for t in tunnels if not t["deleted_at"]]
        elif query.get("is_deleted") == "true":
            tunnels = [t for t in tunnels if t["deleted_at"]]
        for key in ("name", "status", "uuid"):
            if key in query:
                field_name = "id" if key == "uuid" else key
                tunnels = [t for t in tunnels if t[field_name] == query[key]]
        chunk, info = _paginate(request, tunnels, 20)
        return envelope(chunk, info)

    def create_tunnel(self, request: Request, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not body.get("name"):
            raise ApiFailure(400, 1001, "Tunnel name is required")
        tunnel_id = self.state.add_tunnel(str(body["name"]), connections=0)
        return envelope(self.state.tunnels[tunnel_id])

    def get_tunnel(self, request: Request, body: Any) -> dict[str, Any]:
        with self.state.lock:
            return envelope(dict(self._tunnel(request)))

    def delete_tunnel(self, request: Request, body: Any) -> dict[str, Any]:
        with self.state.lock:
            tunnel = self._tunnel(request)
            tunnel["deleted_at"] = _now()
            return envelope(dict(tunnel))

    def get_configuration(self, request: Request, body: Any) -> dict[str, Any]:
        with self.state.lock:
            tunnel = self._tunnel(request)
            stored = self.state.configurations.get(tunnel["id"])
            return envelope(
                {
                    "tunnel_id": tunnel["id"],
                    "version": stored["version"] if stored else 0,
                    "config": stored["config"] if stored else None,
                    "source": "cloudflare",
                    "created_at": stored["created_at"] if stored else tunnel["created_at"],
                }
            )

    def put_configuration(self, request: Request, body: Any) -> dict[str, Any]:
        config = body.get("config") if isinstance(body, dict) else None
        _validate_config(config)
        with self.state.lock:
            tunnel = self._tunnel(request)
            previous = self.state.configurations.get(tunnel["id"])
            stored = {
                "config": config,
                "version": (previous["version"] if previous else 0) + 1,
                "created_at": _now(),
            }
            self.state.configurations[tunnel["id"]] = stored
            return envelope({"tunnel_id": tunnel["id"], "source": "cloudflare", **stored})

    # --- DNS records ---------------------------------------------------------------
    def _record(self, request: Request) -> dict[str, Any]:
        record = self.state.dns_records.get(request.path_params["dns_record_id"])
        if record is None:
            raise ApiFailure(404, 81044, "Record does not exist.")
        return record

    def list_dns(self, request: Request, body: Any) -> dict[str, Any]:
        query = request.query_params
        _, stale = self.faults.take("cf.list_dns.stale")
        with self.state.lock:
            records = [] if stale else [dict(r) for r in self.state.dns_records.values()]
        exact = query.get("name.exact") or query.get("name")
        if exact:
            wanted = self.state.fqdn(exact)
            records = [r for r in records if r["name"] == wanted]
        for op, test in (
            ("name.contains", lambda n, v: v in n),
            ("name.startswith", lambda n, v: n.startswith(v)),
            ("name.endswith", lambda n, v: n.endswith(v)),
        ):
            if op in query:
                value = query[op].lower()
                records = [r for r in records if test(r["name"], value)]
        if "type" in query:
            records = [r for r in records if r["type"] == query["type"].upper()]
        if "content" in query:
            records = [r for r in records if r["content"] == query["content"]]
        if "proxied" in query:
            records = [r for r in records if r["proxied"] == (query["proxied"] == "true")]
        chunk, info = _paginate(request, records, 100)
        return envelope(chunk, info)

    def create_dns(self, request: Request, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiFailure(400, 9207, "Request body is invalid.")
        return envelope(self.state._insert_record(body))

    def get_dns(self, request: Request, body: Any) -> dict[str, Any]:
        with self.state.lock:
            return envelope(dict(self._record(request)))

    def update_dns(self, request: Request, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiFailure(400, 9207, "Request body is invalid.")
        with self.state.lock:
            record = self._record(request)
            if request.method == "PUT" and not {"type", "name", "content"} <= body.keys():
                raise ApiFailure(400, 9005, "Content for a record is invalid: type, name, content.")
            for key in ("type", "content", "proxied", "ttl", "comment", "tags"):
                if key in body:
                    record[key] = body[key]
            if "name" in body:
                record["name"] = self.state.fqdn(str(body["name"]))
            record["modified_on"] = _now()
            return envelope(dict(record))

    def delete_dns(self, request: Request, body: Any) -> dict[str, Any]:
        with self.state.lock:
            record = self._record(request)
            del self.state.dns_records[record["id"]]
            return envelope({"id": record["id"]})


_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_SSL_METHODS = ("http", "txt", "email")


class _CustomHostnamesLab:
    """Custom hostnames (Cloudflare for SaaS) and the zone's fallback origin."""

    def __init__(self, state: CloudflareLabState) -> None:
        self.state = state

    def _by_id(self, request: Request) -> dict[str, Any]:
        record = self.state.custom_hostnames.get(request.path_params["custom_hostname_id"])
        if record is None:
            raise ApiFailure(404, 1436, "The custom hostname was not found.")
        return record

    def list_custom_hostnames(self, request: Request, body: Any) -> dict[str, Any]:
        query = request.query_params
        with self.state.lock:
            records = [dict(r) for r in self.state.custom_hostnames.values()]
        if query.get("hostname"):
            records = [r for r in records if r["hostname"] == query["hostname"].lower()]
        if query.get("id"):
            records = [r for r in records if r["id"] == query["id"]]
        chunk, info = _paginate(request, records, 20)
        return envelope(chunk, info)

    def create_custom_hostname(self, request: Request, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("hostname"), str):
            raise ApiFailure(400, 1411, "Custom hostname is required.")
        hostname = body["hostname"].strip().lower()
        if not _HOSTNAME.match(hostname):
            raise ApiFailure(400, 1411, "Custom hostname is not a valid hostname.")
        if hostname == self.state.zone_name or hostname.endswith("." + self.state.zone_name):
            raise ApiFailure(
                400, 1414, "The custom hostname cannot be a subdomain of the SaaS zone."
            )
        ssl = body.get("ssl")
        if not isinstance(ssl, dict) or ssl.get("method") not in _SSL_METHODS:
            raise ApiFailure(400, 1409, "ssl.method must be one of http, txt, email.")
        if ssl.get("type", "dv") != "dv":
            raise ApiFailure(400, 1409, "ssl.type must be dv.")
        with self.state.lock:
            if any(r["hostname"] == hostname for r in self.state.custom_hostnames.values()):
                raise ApiFailure(409, 1406, "Duplicate custom hostname found.")
            record_id = uuid.uuid4().hex
            token = uuid.uuid4()
            validation: dict[str, Any]
            if ssl["method"] == "txt":
                validation = {
                    "txt_name": f"_acme-challenge.{hostname}",
                    "txt_value": uuid.uuid4().hex[:43],
                }
            else:
                validation = {
                    "http_url": f"http://{hostname}/.well-known/acme-challenge/{token.hex}",
                    "http_body": uuid.uuid4().hex,
                }
            record: dict[str, Any] = {
                "id": record_id,
                "hostname": hostname,
                "ssl": {
                    "id": str(uuid.uuid4()),
                    "type": "dv",
                    "method": ssl["method"],
                    "status": "pending_validation",
                    "bundle_method": "ubiquitous",
                    "certificate_authority": "google",
                    "wildcard": bool(ssl.get("wildcard", False)),
                    "settings": dict(ssl.get("settings") or {}),
                    "validation_records": [validation],
                },
                "status": "pending",
                "ownership_verification": {
                    "type": "txt",
                    "name": f"_cf-custom-hostname.{hostname}",
                    "value": str(token),
                },
                "ownership_verification_http": {
                    "http_url": f"http://{hostname}/.well-known/cf-custom-hostname-challenge/"
                    + record_id,
                    "http_body": str(token),
                },
                "verification_errors": ["custom hostname does not CNAME to this zone."],
                "created_at": _now(),
            }
            if isinstance(body.get("custom_metadata"), dict):
                record["custom_metadata"] = body["custom_metadata"]
            self.state.custom_hostnames[record_id] = record
            return envelope(dict(record))

    def get_custom_hostname(self, request: Request, body: Any) -> dict[str, Any]:
        with self.state.lock:
            return envelope(dict(self._by_id(request)))

    def edit_custom_hostname(self, request: Request, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiFailure(400, 1409, "Request body is invalid.")
        with self.state.lock:
            record = self._by_id(request)
            for key in ("custom_origin_server", "custom_origin_sni", "custom_metadata"):
                if key in body:
                    record[key] = body[key]
            return envelope(dict(record))

    def delete_custom_hostname(self, request: Request, body: Any) -> dict[str, Any]:
        with self.state.lock:
            record = self._by_id(request)
            del self.state.custom_hostnames[record["id"]]
        # Documented answer: the bare ``{"id": …}`` (no result wrapper).
        return {"id": record["id"]}

    def get_fallback_origin(self, request: Request, body: Any) -> dict[str, Any]:
        with self.state.lock:
            return envelope(dict(self.state.fallback_origin or {}))

    def put_fallback_origin(self, request: Request, body: Any) -> dict[str, Any]:
        origin = body.get("origin") if isinstance(body, dict) else None
        if not isinstance(origin, str) or not origin:
            raise ApiFailure(400, 1409, "origin is required.")
        with self.state.lock:
            self.state.fallback_origin = {
                "origin": origin.lower(),
                "status": "active",
                "errors": [],
                "created_at": _now(),
                "updated_at": _now(),
            }
            return envelope(dict(self.state.fallback_origin))


def _publish_route(state: CloudflareLabState) -> Route:
    """``POST /_lab/custom_hostnames/{hostname}/publish`` ``{"ssl": "active"}``: the
    lab's stand-in for the customer creating their DNS records (see ``publish``)."""

    async def publish(request: Request) -> Response:
        try:
            payload = await request.json()
        except ValueError:
            payload = {}
        ssl_status = str((payload or {}).get("ssl", "active"))
        try:
            record = state.publish(request.path_params["hostname"], ssl_status=ssl_status)
        except KeyError:
            return JSONResponse({"error": "unknown custom hostname"}, 404)
        return JSONResponse(record)

    return Route("/_lab/custom_hostnames/{hostname}/publish", publish, methods=["POST"])


def create_cloudflare_lab(
    api_token: str,
    *,
    account_id: str = "lab-account-0000000000000000000000",
    zone_id: str = "lab-zone-000000000000000000000000000",
    zone_name: str = "sajet.us",
    faults: FaultPlan | None = None,
    state: CloudflareLabState | None = None,
) -> Starlette:
    """Build the emulator; ``app.state.lab`` is the :class:`CloudflareLabState`."""
    lab_state = state or CloudflareLabState(api_token, account_id, zone_id, zone_name)
    plan = faults or FaultPlan()
    lab = _CloudflareLab(lab_state, plan)
    saas = _CustomHostnamesLab(lab_state)
    for name in dir(saas):
        if name.endswith(("custom_hostname", "custom_hostnames", "fallback_origin")):
            setattr(lab, name, getattr(saas, name))
    custom = "/zones/{zone_id}/custom_hostnames"
    tunnels = "/accounts/{account_id}/cfd_tunnel"
    records = "/zones/{zone_id}/dns_records"
    routes = [
        lab.route(tunnels, "cf.list_tunnels", ["GET"]),
        lab.route(tunnels, "cf.create_tunnel", ["POST"]),
        lab.route(tunnels + "/{tunnel_id}", "cf.get_tunnel", ["GET"]),
        lab.route(tunnels + "/{tunnel_id}", "cf.delete_tunnel", ["DELETE"]),
        lab.route(tunnels + "/{tunnel_id}/configurations", "cf.get_configuration", ["GET"]),
        lab.route(tunnels + "/{tunnel_id}/configurations", "cf.put_configuration", ["PUT"]),
        lab.route(records, "cf.list_dns", ["GET"]),
        lab.route(records, "cf.create_dns", ["POST"]),
        lab.route(records + "/{dns_record_id}", "cf.get_dns", ["GET"]),
        lab.route(records + "/{dns_record_id}", "cf.update_dns", ["PATCH", "PUT"]),
        lab.route(records + "/{dns_record_id}", "cf.delete_dns", ["DELETE"]),
        lab.route(custom, "cf.list_custom_hostnames", ["GET"]),
        lab.route(custom, "cf.create_custom_hostname", ["POST"]),
        lab.route(custom + "/fallback_origin", "cf.get_fallback_origin", ["GET"]),
        lab.route(custom + "/fallback_origin", "cf.put_fallback_origin", ["PUT"]),
        lab.route(custom + "/{custom_hostname_id}", "cf.get_custom_hostname", ["GET"]),
        lab.route(custom + "/{custom_hostname_id}", "cf.edit_custom_hostname", ["PATCH"]),
        lab.route(custom + "/{custom_hostname_id}", "cf.delete_custom_hostname", ["DELETE"]),
        _publish_route(lab_state),
        *lab_control_routes(plan, lab_state.snapshot, lab_state.reset),
    ]
    app = Starlette(routes=routes)
    app.state.lab = lab_state
    app.state.faults = plan
    return app
