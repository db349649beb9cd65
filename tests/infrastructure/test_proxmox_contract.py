"""Every request ProxmoxManager sends, checked against Proxmox VE 9.1's own API schema
(``proxmox/apidata.js`` under VENDOR_SPECS_DIR, read in place and never copied), and the
emulator's answers checked against the schema's documented return properties.

The scenario calls each public method of the driver against the lab, which logs what it
received; each logged call must match a documented path and method, name only documented
parameters, give every parameter a value of its documented type (and pattern/enum), and
carry every required one.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import shared_parts
from erp_core.drivers.proxmox import ProxmoxManager
from erp_core.lab import ProxmoxLab

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.needs_shared("vendor")


@cache
def _schema() -> dict[str, dict[str, Any]]:
    """apidata.js is ``const apiSchema = [ … ];``: take the JSON array, index every path."""
    base = shared_parts.part_path("vendor")
    path = base / "proxmox" / "apidata.js"
    if not path.is_file():
        shared_parts.missing("vendor", path)
    source = path.read_text()
    start = source.index("[", source.index("apiSchema"))
    tree, _ = json.JSONDecoder().raw_decode(source[start:])
    index: dict[str, dict[str, Any]] = {}

    def walk(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            index[node["path"]] = node.get("info", {})
            walk(node.get("children", []))

    walk(tree)
    return index


def _match(path: str) -> tuple[str, dict[str, str]]:
    """The documented template for a concrete path, with the path parameters it binds."""
    for template in _schema():
        names = re.findall(r"\{([^}]+)\}", template)
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
        found = re.match(pattern, path)
        if found:
            return template, dict(zip(names, found.groups(), strict=True))
    raise AssertionError(f"{path} is not a documented Proxmox API path")


def _check_value(name: str, value: str, spec: dict[str, Any]) -> None:
    kind = spec.get("type", "string")
    if kind == "integer":
        assert re.fullmatch(r"-?\d+", value), f"{name}={value!r} is not an integer"
        number = int(value)
        assert number >= spec.get("minimum", number), f"{name} below minimum"
        assert number <= spec.get("maximum", number), f"{name} above maximum"
    elif kind == "boolean":
        assert value in ("0", "1"), f"{name}={value!r} is not a Proxmox boolean (0/1)"
    elif kind == "number":
        float(value)
    if "enum" in spec:
        assert value in spec["enum"], f"{name}={value!r} not in {spec['enum']}"
    if "pattern" in spec:
        assert re.fullmatch(spec["pattern"], value), f"{name}={value!r} !~ {spec['pattern']}"
    if isinstance(spec.get("format"), dict):
        # property strings (net0, rootfs…): every key=value key must be a documented one
        keys = {part.partition("=")[0] for part in value.split(",") if "=" in part}
        unknown = keys - set(spec["format"])
        assert not unknown, f"{name}: undocumented keys {sorted(unknown)}"
    if "maxLength" in spec:
        assert len(value) <= spec["maxLength"], f"{name} too long"


def check_request(method: str, path: str, params: dict[str, str]) -> str:
    template, bound = _match(path)
    info = _schema()[template]
    assert method in info, f"{method} {template} is not documented"
    properties: dict[str, Any] = info[method].get("parameters", {}).get("properties", {})
    sent = {**params, **bound}
    for name, value in sent.items():
        key = name if name in properties else re.sub(r"\d+$", "[n]", name)
        assert key in properties, f"{method} {template}: undocumented parameter {name!r}"
        _check_value(name, value, properties[key])
    for name, spec in properties.items():
        if not spec.get("optional") and "default" not in spec:
            assert name in sent, f"{method} {template}: required parameter {name!r} missing"
    return f"{method} {template}"


def check_response(method: str, path: str, data: Any) -> None:
    """Keys the emulator returns must be documented return properties (when documented)."""
    template, _ = _match(path)
    returns = _schema()[template][method].get("returns", {})
    rows = data if isinstance(data, list) else [data]
    documented = returns.get("items", returns).get("properties")
    if not documented:
        return
    for row in rows:
        if isinstance(row, dict):
            keys = {k if k in documented else re.sub(r"\d+$", "[n]", k) for k in row}
            extra = keys - set(documented)
            assert not extra, f"{method} {template} returns undocumented {sorted(extra)}"


async def _scenario(pve: ProxmoxManager) -> None:
    await pve.cluster_resources()
    await pve.cluster_resources("node")
    await pve.cluster_resources("vm")
    await pve.node_status("pve1")
    await pve.list_containers("pve1")
    await pve.rrddata("pve1", timeframe="hour", cf="AVERAGE")
    await pve.clone_container(
        "pve1", 9000, 4321, hostname="odoo-contract", full=True, storage="local-lvm",
        target_node="pve2",
    )  # fmt: skip
    await pve.clone_container("pve1", 9000, 4322, hostname="linked", full=False)
    await pve.configure_container(
        "pve2", 4321, cores=2, memory_mb=2048,
        net0="name=eth0,bridge=vmbr0,ip=127.0.0.88/8,gw=127.0.0.1", description="contrato",
    )  # fmt: skip
    await pve.container_config("pve2", 4321)
    await pve.resize_disk("pve2", 4321, disk="rootfs", size_gb=16)
    await pve.start_container("pve2", 4321)
    await pve.container_status("pve2", 4321)
    await pve.rrddata("pve2", 4321, timeframe="day", cf="MAX")
    await pve.shutdown_container("pve2", 4321, timeout=30)
    await pve.start_container("pve2", 4321)
    await pve.stop_container("pve2", 4321)
    await pve.destroy_container("pve2", 4321, purge=True)


async def test_every_driver_request_matches_the_schema(
    pve: ProxmoxManager, pve_lab: ProxmoxLab
) -> None:
    _schema()
    await _scenario(pve)
    log = list(pve_lab.state.request_log)
    assert log, "the emulator logged nothing"
    assert all(call.status < 400 for call in log), [c for c in log if c.status >= 400]
    covered = {check_request(c.method, c.path, c.params) for c in log}
    assert covered >= {
        "GET /cluster/resources",
        "GET /nodes/{node}/status",
        "GET /nodes/{node}/lxc",
        "GET /nodes/{node}/rrddata",
        "POST /nodes/{node}/lxc/{vmid}/clone",
        "PUT /nodes/{node}/lxc/{vmid}/config",
        "GET /nodes/{node}/lxc/{vmid}/config",
        "PUT /nodes/{node}/lxc/{vmid}/resize",
        "POST /nodes/{node}/lxc/{vmid}/status/start",
        "GET /nodes/{node}/lxc/{vmid}/status/current",
        "GET /nodes/{node}/lxc/{vmid}/rrddata",
        "POST /nodes/{node}/lxc/{vmid}/status/shutdown",
        "POST /nodes/{node}/lxc/{vmid}/status/stop",
        "DELETE /nodes/{node}/lxc/{vmid}",
        "GET /nodes/{node}/tasks/{upid}/status",
    }


async def test_emulator_answers_have_the_documented_shape(
    pve: ProxmoxManager, pve_lab: ProxmoxLab
) -> None:
    _schema()
    await _scenario(pve)
    for call in pve_lab.state.request_log:
        payload = json.loads(call.data)["data"]
        check_response(call.method, call.path, payload)


def test_the_checker_rejects_what_proxmox_would() -> None:
    _schema()
    with pytest.raises(AssertionError, match="undocumented parameter 'ram'"):
        check_request("PUT", "/nodes/pve1/lxc/100/config", {"ram": "2048"})
    with pytest.raises(AssertionError, match="not a Proxmox boolean"):
        check_request("POST", "/nodes/pve1/lxc/100/clone", {"newid": "101", "full": "True"})
    with pytest.raises(AssertionError, match="required parameter 'newid'"):
        check_request("POST", "/nodes/pve1/lxc/100/clone", {"hostname": "x"})
    with pytest.raises(AssertionError, match="not documented"):
        check_request("PATCH", "/nodes/pve1/lxc/100/config", {})
    with pytest.raises(AssertionError, match="not a documented"):
        check_request("GET", "/nodes/pve1/lxc/100/exec", {})
