"""Drift audit (issue 18): compare the control plane's rows with what each vendor reports,
store the mismatches as findings, fix them on request as ordinary jobs; plus hourly usage.

``RESERVED_DATABASE_PREFIXES`` is the one list of database-name prefixes the audit never
calls orphans: the Odoo templates feature imports it and names its databases with it.
A suspended tenant's database (``__susp_<subdomain>``, see provisioning.naming) is also
reserved: no template or tenant may ever be created under that prefix. The Odoo check still
matches such databases to their tenants (an unowned one is an orphan).
"""

from erp_core.provisioning.naming import SUSPENDED_DATABASE_PREFIX

RESERVED_DATABASE_PREFIXES: tuple[str, ...] = (
    "__tpl_",
    "tpl-",
    SUSPENDED_DATABASE_PREFIX,
    "__spare_",
)
"""Databases whose name starts with one of these belong to templates (or their prepared
spares) or are a suspended tenant's locked database, never a tenant's plain one."""

ORPHAN_BACKUP_PREFIX = "reconciliation/"
"""Store keys of the verified backups taken before dropping an orphan database (no tenant
owns them, so no backup row): the backup-store check does not call these orphan files."""


def is_reserved_database(name: str) -> bool:
    return name.startswith(RESERVED_DATABASE_PREFIXES)
