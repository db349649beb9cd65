"""Vendor drivers: the only code that speaks HTTP to Odoo and Cloudflare.

Domain code imports :mod:`erp_core.drivers.base` (protocols, dataclasses, errors) and
receives concrete drivers by injection, so it never sees an SDK object and tests can
point the same drivers at the ``erp_core.lab`` emulators.
"""

from erp_core.drivers.base import (
    CloudflareManagerProtocol,
    DnsRecord,
    DriverError,
    IngressRule,
    OdooDatabaseManager,
    OdooHealth,
    PermanentDriverError,
    TransientDriverError,
    TunnelInfo,
    TunnelRouter,
)

__all__ = [
    "CloudflareManagerProtocol",
    "DnsRecord",
    "DriverError",
    "IngressRule",
    "OdooDatabaseManager",
    "OdooHealth",
    "PermanentDriverError",
    "TransientDriverError",
    "TunnelInfo",
    "TunnelRouter",
]
