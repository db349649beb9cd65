"""A real OpenSSH server on loopback with the lab stand-ins, and host-mode managers on it."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from erp_core.drivers.odoo_host import OdooHostManager, SshTarget
from erp_core.lab.host.sshd import LabSshd, sshd_missing_reason, start_lab_sshd
from erp_core.lab.host.standins import State

VMID = 105


@pytest.fixture(scope="session")
def lab_sshd() -> Iterator[LabSshd]:
    reason = sshd_missing_reason()
    if reason:
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix="erp-host-mode-") as tmp:
        server = start_lab_sshd(Path(tmp) / "sshd")
        server.add_container(VMID)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def host_state(lab_sshd: LabSshd) -> State:
    """The stand-ins' state, emptied for this test."""
    state = State(lab_sshd.state_dir)
    state.reset()
    return state


def target_for(server: LabSshd, **overrides: Any) -> SshTarget:
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "private_key": server.client_private_key,
        "known_hosts": server.known_hosts,
    }
    values.update(overrides)
    return SshTarget(**values)


class OutputLog:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    async def __call__(self, stream: str, line: str) -> None:
        self.lines.append((stream, line))

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


@pytest.fixture
def output() -> OutputLog:
    return OutputLog()


@pytest.fixture
async def manager(
    lab_sshd: LabSshd, host_state: State, output: OutputLog
) -> AsyncIterator[OdooHostManager]:
    """A manager that reaches Odoo through ``pct exec 105 --`` like the seed's host."""
    odoo = OdooHostManager(
        target_for(lab_sshd),
        pct_vmid=VMID,
        odoo_conf="/etc/odoo/odoo.conf",
        timeout=15,
        slow_timeout=60,
        on_output=output,
    )
    yield odoo
    await odoo.aclose()


@pytest.fixture
async def make_manager(lab_sshd: LabSshd, host_state: State) -> AsyncIterator[Any]:
    """Build managers with other options; all are closed after the test."""
    made: list[OdooHostManager] = []

    def make(target: SshTarget | None = None, **options: Any) -> OdooHostManager:
        odoo = OdooHostManager(target or target_for(lab_sshd), **options)
        made.append(odoo)
        return odoo

    yield make
    for odoo in made:
        await odoo.aclose()
