"""The physical name of a tenant's Odoo database, decided from the tenant's state.

Suspension is enforced inside Odoo by renaming the database to a reserved name
(``__susp_<subdomain>``): ``dbfilter = ^%d$`` selects a database by the first label of the
request's Host, and no hostname we route starts with ``__`` (subdomains are ``[a-z0-9-]``,
never a leading ``_``), so no login page, ``/web/session/authenticate`` or ``/jsonrpc`` call
naming the tenant's usual database can reach it. Credentials and data are untouched; the
reverse rename restores the tenant exactly.

This module imports nothing from erp_core on purpose: backups, domains, reconciliation and
provisioning all need the same answer, and some of them sit below provisioning.operations.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

SUSPENDED_DATABASE_PREFIX = "__susp_"
"""Reserved prefix of a suspended tenant's database (see module docstring)."""

PG_IDENTIFIER_MAX_BYTES = 63
"""PostgreSQL truncates longer identifiers (NAMEDATALEN - 1): a rename would collide."""

_DIGEST_CHARS = 10
LOCKED_STATUSES = frozenset({"suspended"})
"""Tenant states whose database sits under the suspended name."""


class NamedTenant(Protocol):
    """A tenant row or a read-only snapshot of one (the audit's TenantRow)."""

    @property
    def subdomain(self) -> str: ...

    @property
    def status(self) -> str: ...


def suspended_database_name(subdomain: str) -> str:
    """``__susp_<subdomain>``; stable and still unique when that exceeds 63 bytes.

    A 63-character subdomain plus the prefix is too long for PostgreSQL, so the long form
    keeps a readable head and appends a digest of the whole subdomain (``_`` never occurs
    in a subdomain, so the short and long forms cannot collide).
    """
    name = f"{SUSPENDED_DATABASE_PREFIX}{subdomain}"
    if len(name.encode()) <= PG_IDENTIFIER_MAX_BYTES:
        return name
    digest = hashlib.sha256(subdomain.encode()).hexdigest()[:_DIGEST_CHARS]
    keep = PG_IDENTIFIER_MAX_BYTES - len(SUSPENDED_DATABASE_PREFIX) - 1 - _DIGEST_CHARS
    return f"{SUSPENDED_DATABASE_PREFIX}{subdomain[:keep]}_{digest}"


def is_suspended_database(name: str) -> bool:
    return name.startswith(SUSPENDED_DATABASE_PREFIX)


def tenant_database(tenant: NamedTenant) -> str:
    """The name the tenant's database has in its current (settled) state."""
    if tenant.status in LOCKED_STATUSES:
        return suspended_database_name(tenant.subdomain)
    return tenant.subdomain


def database_candidates(tenant: NamedTenant) -> tuple[str, str]:
    """Both names the database may have, the one the state says first.

    A job in flight (``suspending``, ``deleting``…) or a ``failed`` tenant may sit under
    either name (a rename done by an earlier attempt); steps look for both.
    """
    plain, locked = tenant.subdomain, suspended_database_name(tenant.subdomain)
    return (locked, plain) if tenant.status in LOCKED_STATUSES else (plain, locked)
