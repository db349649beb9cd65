"""A Proxmox VE emulator (the slice the control plane uses), served over HTTPS.

Nodes have capacity and load; LXC containers have a config, a state and a lock; every write
Proxmox runs as a task answers a UPID whose ``/tasks/{upid}/status`` turns ``stopped`` after
``task_delay_s`` with ``exitstatus`` ``OK`` — or with an error text when a fault named
``pve.<op>.task`` is set (``pve.<op>`` alone fails the HTTP call itself). Requests must carry
``Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET``.

Containers only get loopback addresses (127.0.0.0/8): starting one whose ``net0`` says
anything else fails, so nothing in the lab can reach a private network. A started container
serves its own lab Odoo on ``<ip>:<odoo_port>`` (state kept across stop/start), which is what
the control plane provisions into and the lab edge routes to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from erp_core.lab.faults import FaultPlan, lab_control_routes
from erp_core.lab.odoo import create_odoo_lab
from erp_core.lab.proxmox_state import (
    NETIN_RATE,
    NETOUT_RATE,
    PREFIX,
    ContainerOdoo,
    LabContainer,
    LoggedCall,
    ProxmoxLabState,
    PveError,
)

__all__ = ["ProxmoxLabState", "create_proxmox_lab"]


_BOOL = {"0", "1"}
_CONFIG_KEYS = {
    "cores": int,
    "memory": int,
    "swap": int,
    "net0": str,
    "onboot": bool,
    "description": str,
    "hostname": str,
}


def _pve_response(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"data": data}, status)


def _pve_error(error: PveError) -> JSONResponse:
    body: dict[str, Any] = {"data": None, "message": error.message + "\n"}
    if error.errors:
        body["errors"] = error.errors
    return JSONResponse(body, error.status)


def _check_params(params: dict[str, str], spec: Mapping[str, type], required: set[str]) -> None:
    errors: dict[str, str] = {}
    for key in required - set(params):
        errors[key] = "property is missing and it is not optional"
    for key, value in params.items():
        kind = spec.get(key)
        if kind is None:
            errors[key] = (
                "property is not defined in schema and the schema does not allow additional properties"
            )
        elif kind is int and not re.fullmatch(r"-?\d+", value):
            errors[key] = f"type check ('integer') failed - got '{value}'"
        elif kind is bool and value not in _BOOL:
            errors[key] = f"type check ('boolean') failed - got '{value}'"
    if errors:
        raise PveError(400, "Parameter verification failed.", errors)


class _PveLab:
    def __init__(self, state: ProxmoxLabState, faults: FaultPlan) -> None:
        self.state, self.faults = state, faults

    async def _params(self, request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method in ("POST", "PUT"):
            form = await request.form()
            params.update({k: str(v) for k, v in form.items()})
        return params

    def _authorised(self, request: Request) -> bool:
        expected = f"PVEAPIToken={self.state.token_id}={self.state.token_secret}"
        return request.headers.get("authorization", "") == expected

    async def handle(self, request: Request, operation: str, action: Any) -> Response:
        params = await self._params(request)
        path = request.url.path.removeprefix(PREFIX)
        if not self._authorised(request):
            response = _pve_error(PveError(401, "authentication failure"))
        else:
            failure = await self.faults.apply(operation)
            if failure is not None:
                message = failure.message or "Service Unavailable"
                response = _pve_error(PveError(failure.status, message))
            else:
                try:
                    response = _pve_response(await action(request.path_params, params))
                except PveError as error:
                    response = _pve_error(error)
        with self.state.lock:
            data = bytes(response.body).decode() if response.status_code < 400 else None
            self.state.request_log.append(
                LoggedCall(request.method, path, params, response.status_code, data)
            )
        return response

    def _task_exit(self, operation: str) -> str:
        _, failure = self.faults.take(f"{operation}.task")
        if failure is None:
            return "OK"
        return failure.message or "command failed: exit code 1"

    # --- read ---------------------------------------------------------------------------
    async def resources(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        wanted = params.get("type")
        rows: list[dict[str, Any]] = []
        with self.state.lock:
            if wanted in (None, "node"):
                rows += [self.state.node_row(n) for n in self.state.nodes.values()]
            if wanted in (None, "vm"):
                for ct in self.state.containers.values():
                    row = self.state.container_row(ct)
                    row["maxcpu"] = row.pop("cpus")
                    row.pop("maxswap")
                    rows.append({**row, "id": f"lxc/{ct.vmid}", "type": "lxc", "node": ct.node})
        return rows

    async def nextid(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        with self.state.lock:
            if "vmid" in params:
                if int(params["vmid"]) in self.state.containers:
                    raise PveError(
                        400,
                        "Parameter verification failed.",
                        {"vmid": f"VM {params['vmid']} already exists"},
                    )
                return int(params["vmid"])
            return next(v for v in range(100, 1_000_000) if v not in self.state.containers)

    async def node_status(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        with self.state.lock:
            node = self.state.check_node(path["node"])
            mem, disk = self.state.node_mem(node), self.state.node_disk(node)
            return {
                "cpu": node.cpu_load,
                "cpuinfo": {
                    "cpus": node.maxcpu,
                    "cores": node.maxcpu,
                    "sockets": 1,
                    "model": "Lab CPU",
                },
                "memory": {"total": node.maxmem, "used": mem, "free": node.maxmem - mem},
                "rootfs": {
                    "total": node.maxdisk,
                    "used": disk,
                    "free": node.maxdisk - disk,
                    "avail": node.maxdisk - disk,
                },
                "loadavg": ["0.10", "0.20", "0.30"],
                "pveversion": "pve-manager/9.1.0/lab",
                "current-kernel": {"sysname": "Linux", "release": "6.14.0-lab"},
                "boot-info": {"mode": "efi"},
            }

    async def list_lxc(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        with self.state.lock:
            self.state.check_node(path["node"])
            return [
                self.state.container_row(c)
                for c in self.state.containers.values()
                if c.node == path["node"]
            ]

    async def status_current(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        with self.state.lock:
            return self.state.container_row(self.state.container(path["node"], path["vmid"]))

    async def get_config(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        with self.state.lock:
            ct = self.state.container(path["node"], path["vmid"])
            config: dict[str, Any] = dict(ct.config)
            for key in ("cores", "memory", "swap", "template", "unprivileged"):
                if key in config:
                    config[key] = int(config[key])
            return {**config, "digest": f"{abs(hash(tuple(ct.config.items()))):040x}"[:40]}

    async def task_status(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        with self.state.lock:
            task = self.state.tasks.get(path["upid"])
            if task is None or task.node != path["node"]:
                raise PveError(500, f"unable to parse worker upid '{path['upid']}'")
            row: dict[str, Any] = {
                "upid": task.upid,
                "node": task.node,
                "pid": task.pid,
                "pstart": task.pstart,
                "starttime": task.starttime,
                "type": task.type,
                "id": task.id,
                "user": task.user,
            }
            if time.monotonic() < task.done_at:
                return {**row, "status": "running"}
            return {**row, "status": "stopped", "exitstatus": task.exitstatus}

    async def rrddata(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        _check_params(params, {"timeframe": str, "cf": str}, {"timeframe"})
        spans = {"hour": 60, "day": 1800, "week": 10800, "month": 43200, "year": 604800}
        step = spans.get(params["timeframe"])
        if step is None or params.get("cf", "AVERAGE") not in ("AVERAGE", "MAX"):
            raise PveError(400, "Parameter verification failed.", {"timeframe": "value invalid"})
        with self.state.lock:
            node = self.state.check_node(path["node"])
            if "vmid" in path:
                ct = self.state.container(path["node"], path["vmid"])
                row = self.state.container_row(ct)
                running = ct.status == "running"
                point = {
                    "cpu": row["cpu"],
                    "maxcpu": row["cpus"],
                    "mem": row["mem"],
                    "maxmem": row["maxmem"],
                    "disk": row["disk"],
                    "maxdisk": row["maxdisk"],
                    "netin": NETIN_RATE if running else 0,
                    "netout": NETOUT_RATE if running else 0,
                    "diskread": 0,
                    "diskwrite": 0,
                }
            else:
                running_cts = sum(
                    1
                    for c in self.state.containers.values()
                    if c.node == node.name and c.status == "running"
                )
                point = {
                    "cpu": node.cpu_load,
                    "maxcpu": node.maxcpu,
                    "memused": self.state.node_mem(node),
                    "memtotal": node.maxmem,
                    "rootused": self.state.node_disk(node),
                    "roottotal": node.maxdisk,
                    "netin": NETIN_RATE * running_cts,
                    "netout": NETOUT_RATE * running_cts,
                }
        end = int(time.time()) // step * step
        return [{"time": end - step * i, **point} for i in range(69, -1, -1)]

    # --- write --------------------------------------------------------------------------
    async def clone(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        spec = {
            "newid": int,
            "hostname": str,
            "full": bool,
            "storage": str,
            "target": str,
            "description": str,
            "pool": str,
            "snapname": str,
            "bwlimit": str,
        }
        _check_params(params, spec, {"newid"})
        node, vmid, newid = path["node"], path["vmid"], int(params["newid"])
        full = params.get("full", "0") == "1"
        with self.state.lock:
            self.state.check_node(node)
            source = self.state.container(node, vmid)
            if "storage" in params and not full:
                raise PveError(
                    400,
                    "Parameter verification failed.",
                    {"storage": "storage is only allowed for full clones"},
                )
            if not full and not source.template:
                raise PveError(500, "parameter 'full' must be set for non-template clones")
            if newid in self.state.containers:
                where = self.state.containers[newid].node
                raise PveError(
                    500,
                    f"unable to create CT {newid} - CT {newid} already exists on node '{where}'",
                )
            target = params.get("target", node)
            self.state.check_node(target)
            exitstatus = self._task_exit("pve.clone")
            if exitstatus == "OK":
                config = {k: v for k, v in source.config.items() if k != "template"}
                config["hostname"] = params.get("hostname", f"CT{newid}")
                storage = params.get("storage", self.state.storage)
                config["rootfs"] = re.sub(
                    r"^[^:]+:vm-\d+-disk-0", f"{storage}:vm-{newid}-disk-0", config["rootfs"]
                )
                self.state.containers[newid] = LabContainer(
                    newid, target, config, self.state._new_odoo(source.odoo.master_password)
                )
            return self.state.new_task(node, "vzclone", str(vmid), exitstatus)

    async def put_config(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        _check_params(params, _CONFIG_KEYS, set())
        with self.state.lock:
            ct = self.state.container(path["node"], path["vmid"])
            if ct.template:
                raise PveError(500, f"CT {ct.vmid} is a template - unable to change config")
            ct.config.update(params)
        return None

    async def resize(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        _check_params(params, {"disk": str, "size": str, "digest": str}, {"disk", "size"})
        match = re.fullmatch(r"(\+?)(\d+)G", params["size"])
        if params["disk"] != "rootfs" or match is None:
            raise PveError(400, "Parameter verification failed.", {"size": "unable to parse size"})
        with self.state.lock:
            ct = self.state.container(path["node"], path["vmid"])
            current = ct.disk_gb
            wanted = current + int(match.group(2)) if match.group(1) else int(match.group(2))
            if wanted < current:
                raise PveError(500, "unable to shrink disk size")
            exitstatus = self._task_exit("pve.resize")
            if exitstatus == "OK":
                ct.config["rootfs"] = re.sub(r"size=\d+G", f"size={wanted}G", ct.config["rootfs"])
            return self.state.new_task(path["node"], "resize", str(ct.vmid), exitstatus)

    async def start(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        _check_params(params, {"skiplock": bool, "debug": bool}, set())
        with self.state.lock:
            ct = self.state.container(path["node"], path["vmid"])
            if ct.status == "running":
                raise PveError(500, f"CT {ct.vmid} already running")
            if ct.template:
                raise PveError(500, f"CT {ct.vmid} is a template - unable to start")
            exitstatus = self._task_exit("pve.start")
        if exitstatus == "OK":
            exitstatus = await asyncio.to_thread(self._boot, ct)
        return self.state.new_task(path["node"], "vzstart", str(ct.vmid), exitstatus)

    def _boot(self, ct: LabContainer) -> str:
        ip = ct.ip
        if ip is None or not ipaddress.ip_address(ip).is_loopback:
            return f"lab: CT {ct.vmid} net0 must have a static loopback ip= (got {ip or 'none'})"
        app = create_odoo_lab(ct.odoo.master_password, state=ct.odoo)
        try:
            server = ContainerOdoo(app, ip, self.state.odoo_port)
        except (OSError, RuntimeError) as exc:
            return f"lab: unable to start CT {ct.vmid}: {exc}"
        with self.state.lock:
            ct.server, ct.status, ct.started_at = server, "running", time.monotonic()
        return "OK"

    def _halt(self, ct: LabContainer) -> None:
        server = ct.server
        with self.state.lock:
            ct.server, ct.status, ct.started_at = None, "stopped", None
        if server is not None:
            server.stop()

    async def _power_off(self, path: dict[str, Any], params: dict[str, str], kind: str) -> Any:
        with self.state.lock:
            ct = self.state.container(path["node"], path["vmid"])
            if ct.status != "running":
                raise PveError(500, f"CT {ct.vmid} not running")
            exitstatus = self._task_exit(f"pve.{kind}")
        if exitstatus == "OK":
            await asyncio.to_thread(self._halt, ct)
        return self.state.new_task(path["node"], f"vz{kind}", str(ct.vmid), exitstatus)

    async def shutdown(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        _check_params(params, {"timeout": int, "forceStop": bool}, set())
        return await self._power_off(path, params, "shutdown")

    async def stop(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        _check_params(params, {"skiplock": bool, "overrule-shutdown": bool}, set())
        return await self._power_off(path, params, "stop")

    async def destroy(self, path: dict[str, Any], params: dict[str, str]) -> Any:
        spec = {"purge": bool, "force": bool, "destroy-unreferenced-disks": bool}
        _check_params(params, spec, set())
        with self.state.lock:
            ct = self.state.container(path["node"], path["vmid"])
            if ct.status == "running" and params.get("force") != "1":
                raise PveError(500, f"CT {ct.vmid} is running - destroy failed")
            exitstatus = self._task_exit("pve.destroy")
            if exitstatus == "OK":
                del self.state.containers[ct.vmid]
        if exitstatus == "OK" and ct.server is not None:
            await asyncio.to_thread(self._halt, ct)
        return self.state.new_task(path["node"], "vzdestroy", str(ct.vmid), exitstatus)


def create_proxmox_lab(state: ProxmoxLabState, *, faults: FaultPlan | None = None) -> Starlette:
    """The emulator app (serve it with ``LabServer(app, https=True)``)."""
    plan = faults or FaultPlan()
    lab = _PveLab(state, plan)
    ct = PREFIX + "/nodes/{node}/lxc/{vmid:int}"

    def route(path: str, method: str, operation: str, action: Any) -> Route:
        async def endpoint(request: Request) -> Response:
            return await lab.handle(request, operation, action)

        return Route(
            PREFIX + path if not path.startswith(PREFIX) else path, endpoint, methods=[method]
        )

    routes = [
        route("/cluster/resources", "GET", "pve.resources", lab.resources),
        route("/cluster/nextid", "GET", "pve.nextid", lab.nextid),
        route("/nodes/{node}/status", "GET", "pve.node_status", lab.node_status),
        route("/nodes/{node}/rrddata", "GET", "pve.rrddata", lab.rrddata),
        route("/nodes/{node}/lxc", "GET", "pve.list", lab.list_lxc),
        route("/nodes/{node}/tasks/{upid}/status", "GET", "pve.task_status", lab.task_status),
        route(ct + "/status/current", "GET", "pve.status", lab.status_current),
        route(ct + "/config", "GET", "pve.config", lab.get_config),
        route(ct + "/config", "PUT", "pve.config", lab.put_config),
        route(ct + "/rrddata", "GET", "pve.rrddata", lab.rrddata),
        route(ct + "/clone", "POST", "pve.clone", lab.clone),
        route(ct + "/resize", "PUT", "pve.resize", lab.resize),
        route(ct + "/status/start", "POST", "pve.start", lab.start),
        route(ct + "/status/shutdown", "POST", "pve.shutdown", lab.shutdown),
        route(ct + "/status/stop", "POST", "pve.stop", lab.stop),
        route(ct, "DELETE", "pve.destroy", lab.destroy),
        *lab_control_routes(plan, state.snapshot, state.reset),
    ]
    app = Starlette(routes=routes)
    app.state.lab = state
    app.state.faults = plan
    return app
