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

    def reset(self) -> None:
        with self.lock:
            self.configurations.clear()
            self.dns_records.clear()
            self.request_log.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "tunnels": list(self.tunnels.values()),
                "configurations": dict(self.configurations),
                "dns_records": list(self.dns_records.values()),
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
        *lab_control_routes(plan, lab_state.snapshot, lab_state.reset),
    ]
    app = Starlette(routes=routes)
    app.state.lab = lab_state
    app.state.faults = plan
    return app
