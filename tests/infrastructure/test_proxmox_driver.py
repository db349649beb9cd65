"""ProxmoxManager against the HTTPS lab: inventory, container lifecycle, task errors, auth."""

from __future__ import annotations

import httpx
import pytest

from erp_core.drivers.base import ClusterManager, PermanentDriverError, TransientDriverError
from erp_core.drivers.proxmox import ProxmoxManager
from erp_core.lab import ProxmoxLab


async def test_manager_satisfies_the_protocol(pve: ProxmoxManager) -> None:
    assert isinstance(pve, ClusterManager)


async def test_container_lifecycle(pve: ProxmoxManager, pve_lab: ProxmoxLab) -> None:
    resources = await pve.cluster_resources()
    assert {r.node for r in resources if r.type == "node"} == {"pve1", "pve2"}
    template = next(r for r in resources if r.vmid == 9000)
    assert template.template and template.type == "lxc"

    await pve.clone_container(
        "pve1", 9000, 1234, hostname="odoo-x", storage="local-lvm", target_node="pve2"
    )
    await pve.configure_container(
        "pve2", 1234, cores=3, memory_mb=4096, net0="name=eth0,bridge=vmbr0,ip=127.0.0.77/8"
    )
    await pve.resize_disk("pve2", 1234, disk="rootfs", size_gb=20)
    config = await pve.container_config("pve2", 1234)
    assert config["cores"] == "3" and config["memory"] == "4096"
    assert "size=20G" in config["rootfs"] and "ip=127.0.0.77/8" in config["net0"]

    await pve.start_container("pve2", 1234)
    state = await pve.container_status("pve2", 1234)
    assert state.status == "running" and state.cpus == 3
    async with httpx.AsyncClient(timeout=5) as http:
        health = await http.get(f"http://127.0.0.77:{pve_lab.state.odoo_port}/web/health")
    assert health.json() == {"status": "pass"}
    assert [c.vmid for c in await pve.list_containers("pve2")] == [1234]

    points = await pve.rrddata("pve2", 1234, timeframe="hour")
    assert len(points) == 70 and points[-1].netin == 2048
    node_points = await pve.rrddata("pve2", timeframe="day", cf="MAX")
    assert node_points[-1].maxmem == 32 * 1024**3
    status = await pve.node_status("pve2")
    assert status.cpus == 8 and status.mem_used > 0

    await pve.shutdown_container("pve2", 1234, timeout=5)
    assert (await pve.container_status("pve2", 1234)).status == "stopped"
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(timeout=2) as http:
            await http.get(f"http://127.0.0.77:{pve_lab.state.odoo_port}/web/health")
    await pve.destroy_container("pve2", 1234)
    assert 1234 not in pve_lab.state.containers


async def test_vmid_in_use_and_missing_container(pve: ProxmoxManager) -> None:
    await pve.clone_container("pve1", 9000, 300, hostname="a")
    with pytest.raises(PermanentDriverError) as taken:
        await pve.clone_container("pve1", 9000, 300, hostname="b")
    assert taken.value.vendor_code == "vmid_exists"
    assert "already exists" in taken.value.message
    with pytest.raises(PermanentDriverError) as missing:
        await pve.container_status("pve1", 999)
    assert missing.value.vendor_code == "not_found"


async def test_task_error_carries_proxmox_message(pve: ProxmoxManager, pve_lab: ProxmoxLab) -> None:
    pve_lab.faults.set(
        "pve.clone.task", fail_times=1, message="clone failed: no space left on device"
    )
    with pytest.raises(PermanentDriverError) as failed:
        await pve.clone_container("pve1", 9000, 301, hostname="c")
    assert failed.value.vendor_code == "task_failed"
    assert "no space left on device" in failed.value.message
    assert failed.value.message.startswith("Proxmox no pudo clonar la plantilla 9000")
    assert 301 not in pve_lab.state.containers


async def test_http_failures_are_classified(pve: ProxmoxManager, pve_lab: ProxmoxLab) -> None:
    pve_lab.faults.set("pve.resources", fail_times=1, status=503)
    with pytest.raises(TransientDriverError):
        await pve.cluster_resources()
    pve_lab.faults.set("pve.start", fail_times=1, status=500, message="CT 1 is locked (clone)")
    with pytest.raises(PermanentDriverError) as locked:
        await pve.start_container("pve1", 9000)
    assert "is locked" in locked.value.message  # read from the body, not the reason phrase


async def test_wrong_token_is_refused(pve_lab: ProxmoxLab) -> None:
    manager = ProxmoxManager(
        pve_lab.host, "erp-core@pve!control-plane", "wrong-secret", verify_ssl=pve_lab.ca_bundle
    )
    try:
        with pytest.raises(PermanentDriverError) as refused:
            await manager.cluster_resources()
        assert refused.value.vendor_code == "auth"
        assert "wrong-secret" not in refused.value.message
    finally:
        await manager.aclose()


async def test_untrusted_certificate_is_permanent(pve_lab: ProxmoxLab) -> None:
    manager = ProxmoxManager(pve_lab.host, "erp-core@pve!control-plane", "x", verify_ssl=True)
    try:
        with pytest.raises(PermanentDriverError) as tls:
            await manager.cluster_resources()
        assert tls.value.vendor_code == "tls"
    finally:
        await manager.aclose()
