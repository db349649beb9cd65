"""Vendor-level tests (drivers, lab emulators, contracts): the real drivers against the lab
emulators over loopback HTTP, each test starting from empty emulators with no faults."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from erp_core.drivers.cloudflare import CloudflareManager
from erp_core.drivers.odoo import OdooRpcManager
from erp_core.lab import LabStack, start_lab_stack

MASTER_PASSWORD = "Maestra-lab-9f2c"
CF_TOKEN = "cf-lab-token-7d1e"


@pytest.fixture(scope="session")
def lab() -> Iterator[LabStack]:
    stack = start_lab_stack(
        master_password=MASTER_PASSWORD,
        cloudflare_token=CF_TOKEN,
        tunnel_names=("main-tunnel", "spare-tunnel"),
    )
    yield stack
    stack.stop()


@pytest.fixture(autouse=True)
def clean_lab(lab: LabStack) -> Iterator[None]:
    """Each test starts from empty emulators with no faults."""
    yield
    lab.faults.clear()
    lab.odoo_state.reset()
    lab.cloudflare_state.reset()


@pytest.fixture
async def odoo(lab: LabStack) -> AsyncIterator[OdooRpcManager]:
    manager = OdooRpcManager(
        lab.odoo.url, MASTER_PASSWORD, timeout=5.0, slow_timeout=10.0, base_domain="sajet.us"
    )
    yield manager
    await manager.aclose()


@pytest.fixture
async def cloudflare(lab: LabStack) -> AsyncIterator[CloudflareManager]:
    manager = CloudflareManager(
        CF_TOKEN,
        account_id=lab.cloudflare_state.account_id,
        zone_id=lab.cloudflare_state.zone_id,
        base_url=lab.cloudflare_base_url,
        max_retries=0,
        timeout=5.0,
    )
    yield manager
    await manager.aclose()


@pytest.fixture
def master_password() -> str:
    return MASTER_PASSWORD


@pytest.fixture
def cf_token() -> str:
    return CF_TOKEN
