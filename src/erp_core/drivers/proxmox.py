"""Proxmox VE through ``proxmoxer`` with an API token.

proxmoxer is synchronous (requests inside), so every call runs in a worker thread. Writes
that Proxmox runs as tasks answer a UPID: we poll ``/nodes/{node}/tasks/{upid}/status``
until the task stops and treat any ``exitstatus`` other than ``OK`` as an error carrying
Proxmox's own text. Errors become :class:`DriverError` subclasses with a Spanish message;
the token never appears in a message or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import requests
from proxmoxer import ProxmoxAPI, ResourceException

from erp_core.drivers.base import (
    ClusterResource,
    ContainerState,
    DriverError,
    NodeStatus,
    PermanentDriverError,
    RrdPoint,
    RrdTimeframe,
    TransientDriverError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

_TRANSIENT_500 = re.compile(r"got timeout|can't lock file|cluster not ready|no quorum", re.I)


def _int(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _optional_float(value: Any) -> float | None:
    return None if value is None else _float(value)


def _body_message_hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Proxmox puts an error's text in the reason phrase and in the body's ``message``;
    intermediaries may rewrite the former, so prefer the body (proxmoxer reads ``reason``)."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        return
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, str) and message.strip():
        response.reason = message.strip()


def split_token_id(token_id: str) -> tuple[str, str]:
    """``USER@REALM!TOKENID`` → (``USER@REALM``, ``TOKENID``)."""
    user, sep, name = token_id.partition("!")
    if not sep or not user or not name:
        raise PermanentDriverError(
            "PROXMOX_TOKEN_ID debe tener la forma usuario@reino!nombre_del_token.",
            vendor_code="bad_token_id",
        )
    return user, name


class ProxmoxManager:
    """The :class:`~erp_core.drivers.base.ClusterManager` of one Proxmox VE cluster."""

    def __init__(
        self,
        host: str,
        token_id: str,
        token_secret: str,
        *,
        verify_ssl: bool | str = True,
        timeout: float = 30.0,
        task_timeout: float = 600.0,
        poll_interval: float = 1.0,
    ) -> None:
        user, token_name = split_token_id(token_id)
        self.host = host
        self.task_timeout = task_timeout
        self.poll_interval = poll_interval
        self._api = ProxmoxAPI(
            host,
            user=user,
            token_name=token_name,
            token_value=token_secret,
            verify_ssl=verify_ssl,
            timeout=timeout,
            service="PVE",
        )
        # proxmoxer keeps its requests.Session in the resource store; the hook only reads
        # error bodies so the message survives a proxy that rewrites reason phrases.
        self._api._store["session"].hooks["response"].append(_body_message_hook)

    # --- plumbing -------------------------------------------------------------------------
    async def _call(self, operation: str, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except ResourceException as exc:
            raise self._translate(operation, exc) from None
        except requests.exceptions.SSLError as exc:
            raise PermanentDriverError(
                f"Proxmox no pudo {operation}: el certificado TLS de {self.host} no es de "
                "confianza (revise PROXMOX_VERIFY_SSL / PROXMOX_CA_BUNDLE).",
                vendor_detail=type(exc).__name__,
                vendor_code="tls",
            ) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise TransientDriverError(
                f"Proxmox no pudo {operation}: {self.host} no responde.",
                vendor_detail=type(exc).__name__,
                vendor_code="unreachable",
            ) from None

    def _translate(self, operation: str, exc: ResourceException) -> DriverError:
        status = int(exc.status_code)
        detail = str(exc.content or exc.status_message or "").strip()
        if exc.errors:
            detail = f"{detail} {exc.errors}".strip()
        message = f"Proxmox no pudo {operation}: {detail}"
        if status in (401, 403):
            return PermanentDriverError(
                f"Proxmox rechazó el token de API al {operation} ({status}): {detail}",
                vendor_detail=detail,
                vendor_code="auth",
                status_code=status,
            )
        if status == 429 or status in (502, 503, 504) or _TRANSIENT_500.search(detail):
            return TransientDriverError(
                message, vendor_detail=detail, vendor_code=str(status), status_code=status
            )
        code = str(status)
        if "already exists" in detail:
            code = "vmid_exists"
        elif "does not exist" in detail or status == 404:
            code = "not_found"
        return PermanentDriverError(
            message, vendor_detail=detail, vendor_code=code, status_code=status
        )

    async def wait_task(self, upid: str, operation: str) -> dict[str, Any]:
        """Poll a task until it stops; success only with ``exitstatus == "OK"``."""
        node = upid.split(":")[1] if upid.startswith("UPID:") else ""
        deadline = time.monotonic() + self.task_timeout
        while True:
            status: dict[str, Any] = await self._call(
                f"consultar la tarea de {operation}",
                lambda: self._api.nodes(node).tasks(upid).status.get(),
            )
            if status.get("status") == "stopped":
                exit_status = str(status.get("exitstatus") or "sin estado de salida")
                if exit_status != "OK":
                    raise PermanentDriverError(
                        f"Proxmox no pudo {operation}: la tarea terminó con error: {exit_status}",
                        vendor_detail=exit_status,
                        vendor_code="task_failed",
                    )
                return status
            if time.monotonic() >= deadline:
                raise TransientDriverError(
                    f"Proxmox no terminó de {operation} en {self.task_timeout:.0f} s.",
                    vendor_detail=upid,
                    vendor_code="task_timeout",
                )
            await asyncio.sleep(self.poll_interval)

    async def _task(self, operation: str, fn: Callable[[], Any]) -> None:
        upid = await self._call(operation, fn)
        if isinstance(upid, str) and upid.startswith("UPID:"):
            await self.wait_task(upid, operation)

    # --- inventory ----------------------------------------------------------------------
    async def cluster_resources(
        self, kind: Literal["node", "vm"] | None = None
    ) -> list[ClusterResource]:
        params = {"type": kind} if kind else {}
        rows: list[dict[str, Any]] = await self._call(
            "listar los recursos del clúster",
            lambda: self._api.cluster.resources.get(**params),
        )
        result = []
        for row in rows or []:
            if row.get("type") not in ("node", "lxc"):
                continue
            vmid = row.get("vmid")
            result.append(
                ClusterResource(
                    type=str(row["type"]),
                    id=str(row.get("id", "")),
                    node=str(row.get("node", "")),
                    status=str(row.get("status", "unknown")),
                    vmid=_int(vmid) if vmid is not None else None,
                    name=row.get("name"),
                    cpu=_float(row.get("cpu")),
                    maxcpu=_int(row.get("maxcpu")),
                    mem=_int(row.get("mem")),
                    maxmem=_int(row.get("maxmem")),
                    disk=_int(row.get("disk")),
                    maxdisk=_int(row.get("maxdisk")),
                    netin=_int(row.get("netin")),
                    netout=_int(row.get("netout")),
                    uptime=_int(row.get("uptime")),
                    template=bool(_int(row.get("template"))),
                )
            )
        return result

    async def node_status(self, node: str) -> NodeStatus:
        data: dict[str, Any] = await self._call(
            f"leer el estado del nodo {node}", lambda: self._api.nodes(node).status.get()
        )
        memory = data.get("memory") or {}
        rootfs = data.get("rootfs") or {}
        cpuinfo = data.get("cpuinfo") or {}
        return NodeStatus(
            node=node,
            cpu=_float(data.get("cpu")),
            cpus=_int(cpuinfo.get("cpus")),
            mem_used=_int(memory.get("used")),
            mem_total=_int(memory.get("total")),
            disk_used=_int(rootfs.get("used")),
            disk_total=_int(rootfs.get("total")),
        )

    @staticmethod
    def _container(node: str, row: dict[str, Any]) -> ContainerState:
        return ContainerState(
            vmid=_int(row.get("vmid")),
            node=node,
            status=str(row.get("status", "unknown")),
            name=row.get("name"),
            cpu=_float(row.get("cpu")),
            cpus=_int(row.get("cpus")),
            mem=_int(row.get("mem")),
            maxmem=_int(row.get("maxmem")),
            disk=_int(row.get("disk")),
            maxdisk=_int(row.get("maxdisk")),
            netin=_int(row.get("netin")),
            netout=_int(row.get("netout")),
            uptime=_int(row.get("uptime")),
            lock=row.get("lock") or None,
        )

    async def list_containers(self, node: str) -> list[ContainerState]:
        rows: list[dict[str, Any]] = await self._call(
            f"listar los contenedores del nodo {node}", lambda: self._api.nodes(node).lxc.get()
        )
        return [self._container(node, row) for row in rows or []]

    async def container_status(self, node: str, vmid: int) -> ContainerState:
        row: dict[str, Any] = await self._call(
            f"leer el estado del contenedor {vmid}",
            lambda: self._api.nodes(node).lxc(vmid).status.current.get(),
        )
        return self._container(node, {**row, "vmid": row.get("vmid", vmid)})

    async def container_config(self, node: str, vmid: int) -> dict[str, str]:
        data: dict[str, Any] = await self._call(
            f"leer la configuración del contenedor {vmid}",
            lambda: self._api.nodes(node).lxc(vmid).config.get(),
        )
        return {str(k): str(v) for k, v in (data or {}).items()}

    # --- lifecycle --------------------------------------------------------------------
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
    ) -> None:
        params: dict[str, Any] = {"newid": new_vmid, "hostname": hostname, "full": int(full)}
        if full and storage:
            params["storage"] = storage
        if target_node and target_node != node:
            params["target"] = target_node
        await self._task(
            f"clonar la plantilla {source_vmid} como contenedor {new_vmid}",
            lambda: self._api.nodes(node).lxc(source_vmid).clone.post(**params),
        )

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
    ) -> None:
        params: dict[str, Any] = {
            "cores": cores,
            "memory": memory_mb,
            "net0": net0,
            "onboot": int(onboot),
        }
        if description:
            params["description"] = description
        await self._task(
            f"configurar el contenedor {vmid}",
            lambda: self._api.nodes(node).lxc(vmid).config.put(**params),
        )

    async def resize_disk(self, node: str, vmid: int, *, disk: str, size_gb: int) -> None:
        await self._task(
            f"ampliar el disco {disk} del contenedor {vmid} a {size_gb} GB",
            lambda: self._api.nodes(node).lxc(vmid).resize.put(disk=disk, size=f"{size_gb}G"),
        )

    async def start_container(self, node: str, vmid: int) -> None:
        await self._task(
            f"arrancar el contenedor {vmid}",
            lambda: self._api.nodes(node).lxc(vmid).status.start.post(),
        )

    async def shutdown_container(self, node: str, vmid: int, *, timeout: int = 60) -> None:
        await self._task(
            f"apagar el contenedor {vmid}",
            lambda: (
                self._api.nodes(node).lxc(vmid).status.shutdown.post(timeout=timeout, forceStop=1)
            ),
        )

    async def stop_container(self, node: str, vmid: int) -> None:
        await self._task(
            f"detener el contenedor {vmid}",
            lambda: self._api.nodes(node).lxc(vmid).status.stop.post(),
        )

    async def destroy_container(self, node: str, vmid: int, *, purge: bool = True) -> None:
        params = {"purge": int(purge), "destroy-unreferenced-disks": 1}
        await self._task(
            f"destruir el contenedor {vmid}",
            lambda: self._api.nodes(node).lxc(vmid).delete(**params),
        )

    # --- history ------------------------------------------------------------------------
    async def rrddata(
        self,
        node: str,
        vmid: int | None = None,
        *,
        timeframe: RrdTimeframe = "hour",
        cf: Literal["AVERAGE", "MAX"] = "AVERAGE",
    ) -> list[RrdPoint]:
        if vmid is None:
            what = f"leer el historial del nodo {node}"
            resource = self._api.nodes(node).rrddata
        else:
            what = f"leer el historial del contenedor {vmid}"
            resource = self._api.nodes(node).lxc(vmid).rrddata
        rows: list[dict[str, Any]] = await self._call(
            what, lambda: resource.get(timeframe=timeframe, cf=cf)
        )
        return [
            RrdPoint(
                time=datetime.fromtimestamp(_int(row.get("time")), UTC),
                cpu=_optional_float(row.get("cpu")),
                maxcpu=_optional_float(row.get("maxcpu")),
                mem=_optional_float(row.get("mem") if "mem" in row else row.get("memused")),
                maxmem=_optional_float(
                    row.get("maxmem") if "maxmem" in row else row.get("memtotal")
                ),
                disk=_optional_float(row.get("disk") if "disk" in row else row.get("rootused")),
                maxdisk=_optional_float(
                    row.get("maxdisk") if "maxdisk" in row else row.get("roottotal")
                ),
                netin=_optional_float(row.get("netin")),
                netout=_optional_float(row.get("netout")),
            )
            for row in rows or []
            if row.get("time") is not None
        ]

    async def aclose(self) -> None:
        await asyncio.to_thread(self._api._store["session"].close)
