"""The source checks, in run order. A new source (custom hostnames) is one more entry."""

from __future__ import annotations

from erp_core.reconciliation.checks.backups import BackupStoreCheck
from erp_core.reconciliation.checks.base import Observation, Snapshot, SourceCheck, load_snapshot
from erp_core.reconciliation.checks.odoo import OdooDatabasesCheck
from erp_core.reconciliation.checks.proxmox import ProxmoxContainersCheck
from erp_core.reconciliation.checks.routing import TunnelRoutingCheck
from erp_core.reconciliation.checks.stripe import StripeSubscriptionsCheck

CHECKS: list[SourceCheck] = [
    OdooDatabasesCheck(),
    TunnelRoutingCheck(),
    ProxmoxContainersCheck(),
    StripeSubscriptionsCheck(),
    BackupStoreCheck(),
]

__all__ = ["CHECKS", "Observation", "Snapshot", "SourceCheck", "load_snapshot"]
