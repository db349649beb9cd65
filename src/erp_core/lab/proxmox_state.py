"""State of the Proxmox lab: nodes, containers (each with its own lab Odoo), tasks."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from erp_core.lab.odoo import OdooLabState

GIB = 1024**3
MIB = 1024**2
PREFIX = "/api2/json"
NETIN_RATE, NETOUT_RATE = 2048, 1024  # bytes/s a running lab container "transfers"


class PveError(Exception):
    """An API error rendered the way Proxmox does: status, ``message`` and field errors."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


@dataclass
class LoggedCall:
    method: str
    path: str
    params: dict[str, str]
    status: int
    data: Any = None


@dataclass
class LabNode:
    name: str
    maxcpu: int = 8
    maxmem: int = 32 * GIB
    maxdisk: int = 500 * GIB
    cpu_load: float = 0.10
    base_mem: int = 2 * GIB
    base_disk: int = 20 * GIB
    status: str = "online"


@dataclass
class LabContainer:
    vmid: int
    node: str
    config: dict[str, str]
    odoo: OdooLabState
    status: str = "stopped"
    template: bool = False
    started_at: float | None = None
    server: ContainerOdoo | None = None

    @property
    def disk_gb(self) -> int:
        match = re.search(r"size=(\d+)G", self.config.get("rootfs", ""))
        return int(match.group(1)) if match else 0

    @property
    def uptime(self) -> int:
        return int(time.monotonic() - self.started_at) if self.started_at else 0

    @property
    def ip(self) -> str | None:
        match = re.search(r"(?:^|,)ip=([0-9.]+)", self.config.get("net0", ""))
        return match.group(1) if match else None


@dataclass
class LabTask:
    upid: str
    node: str
    type: str
    id: str
    user: str
    pid: int
    pstart: int
    starttime: int
    done_at: float
    exitstatus: str = "OK"


class ContainerOdoo:
    """A lab Odoo bound to a container's own loopback address (not only 127.0.0.1)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        self.host, self.port = host, port
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self._socket = sock
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[sock])),
            name=f"lab-ct-odoo-{host}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"lab Odoo on {host}:{port} did not start")
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


class ProxmoxLabState:
    """Cluster state shared by the handlers (server thread) and tests (their thread)."""

    def __init__(
        self,
        *,
        token_id: str,
        token_secret: str,
        template_master_password: str,
        odoo_port: int,
        nodes: tuple[str, ...] = ("pve1", "pve2"),
        template_vmid: int = 9000,
        storage: str = "local-lvm",
        base_domain: str = "sajet.us",
        odoo_version: str = "17.0",
        task_delay_s: float = 0.05,
    ) -> None:
        self.lock = threading.RLock()
        self.token_id, self.token_secret = token_id, token_secret
        self.template_master_password = template_master_password
        self.odoo_port, self.template_vmid, self.storage = odoo_port, template_vmid, storage
        self.base_domain, self.odoo_version = base_domain, odoo_version
        self.task_delay_s = task_delay_s
        self.node_names = nodes
        self.nodes: dict[str, LabNode] = {}
        self.containers: dict[int, LabContainer] = {}
        self.tasks: dict[str, LabTask] = {}
        self.request_log: list[LoggedCall] = []
        self._pid = 0x1000
        self.reset()

    def reset(self) -> None:
        """Back to the nodes and the golden template only (stopping every container's Odoo)."""
        with self.lock:
            for container in self.containers.values():
                if container.server is not None:
                    container.server.stop()
            self.nodes = {name: LabNode(name) for name in self.node_names}
            self.containers = {}
            self.tasks = {}
            self.request_log = []
            template = LabContainer(
                vmid=self.template_vmid,
                node=self.node_names[0],
                config={
                    "hostname": "odoo-template",
                    "arch": "amd64",
                    "ostype": "debian",
                    "cores": "2",
                    "memory": "2048",
                    "swap": "512",
                    "rootfs": f"{self.storage}:vm-{self.template_vmid}-disk-0,size=8G",
                    "net0": "name=eth0,bridge=vmbr0,ip=dhcp,type=veth",
                    "unprivileged": "1",
                    "template": "1",
                },
                odoo=self._new_odoo(self.template_master_password),
                template=True,
            )
            self.containers[template.vmid] = template

    def _new_odoo(self, master_password: str) -> OdooLabState:
        return OdooLabState(master_password, self.odoo_version, base_domain=self.base_domain)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "nodes": {
                    n.name: {"status": n.status, "cpu": n.cpu_load} for n in self.nodes.values()
                },
                "containers": {
                    vmid: {"node": c.node, "status": c.status, "config": dict(c.config)}
                    for vmid, c in self.containers.items()
                },
            }

    # --- derived figures ------------------------------------------------------------
    def container_mem(self, ct: LabContainer) -> int:
        return int(int(ct.config.get("memory", "0")) * MIB * 0.3) if ct.status == "running" else 0

    def node_mem(self, node: LabNode) -> int:
        used = sum(self.container_mem(c) for c in self.containers.values() if c.node == node.name)
        return node.base_mem + used

    def node_disk(self, node: LabNode) -> int:
        sizes = sum(c.disk_gb for c in self.containers.values() if c.node == node.name)
        return node.base_disk + sizes * GIB

    def container_row(self, ct: LabContainer) -> dict[str, Any]:
        running = ct.status == "running"
        return {
            "vmid": ct.vmid,
            "name": ct.config.get("hostname"),
            "status": ct.status,
            "cpu": 0.02 if running else 0,
            "cpus": int(ct.config.get("cores", "1")),
            "mem": self.container_mem(ct),
            "maxmem": int(ct.config.get("memory", "0")) * MIB,
            "maxswap": int(ct.config.get("swap", "0")) * MIB,
            "disk": int(ct.disk_gb * GIB * 0.25),
            "maxdisk": ct.disk_gb * GIB,
            "netin": ct.uptime * NETIN_RATE,
            "netout": ct.uptime * NETOUT_RATE,
            "diskread": 0,
            "diskwrite": 0,
            "uptime": ct.uptime,
            "template": 1 if ct.template else 0,
            **({"lock": ct.config["lock"]} if "lock" in ct.config else {}),
        }

    def node_row(self, node: LabNode) -> dict[str, Any]:
        online = node.status == "online"
        return {
            "id": f"node/{node.name}",
            "type": "node",
            "node": node.name,
            "status": node.status,
            "level": "",
            "cpu": node.cpu_load if online else 0,
            "maxcpu": node.maxcpu,
            "mem": self.node_mem(node) if online else 0,
            "maxmem": node.maxmem,
            "disk": self.node_disk(node),
            "maxdisk": node.maxdisk,
            "uptime": 86400 if online else 0,
        }

    # --- tasks ----------------------------------------------------------------------
    def new_task(self, node: str, kind: str, obj: str, exitstatus: str = "OK") -> str:
        with self.lock:
            self._pid += 1
            now = int(time.time())
            user = self.token_id
            upid = f"UPID:{node}:{self._pid:08X}:{self._pid * 7:08X}:{now:08X}:{kind}:{obj}:{user}:"
            self.tasks[upid] = LabTask(
                upid,
                node,
                kind,
                obj,
                user,
                self._pid,
                self._pid * 7,
                now,
                time.monotonic() + self.task_delay_s,
                exitstatus,
            )
            return upid

    def container(self, node: str, vmid: int) -> LabContainer:
        ct = self.containers.get(vmid)
        if ct is None or ct.node != node:
            raise PveError(500, f"Configuration file 'nodes/{node}/lxc/{vmid}.conf' does not exist")
        return ct

    def check_node(self, node: str) -> LabNode:
        found = self.nodes.get(node)
        if found is None:
            raise PveError(500, f"hostname lookup '{node}' failed - no such node")
        return found
