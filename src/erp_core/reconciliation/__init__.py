"""Drift audit (issue 18): compare the control plane's rows with what each vendor reports,
store the mismatches as findings, fix them on request as ordinary jobs; plus hourly usage.

``RESERVED_DATABASE_PREFIXES`` is the one list of database-name prefixes the audit never
calls orphans: the Odoo templates feature imports it and names its databases with it.
"""

RESERVED_DATABASE_PREFIXES: tuple[str, ...] = ("__tpl_", "tpl-")
"""Databases whose name starts with one of these belong to templates, not tenants."""

ORPHAN_BACKUP_PREFIX = "reconciliation/"
"""Store keys of the verified backups taken before dropping an orphan database (no tenant
owns them, so no backup row): the backup-store check does not call these orphan files."""


def is_reserved_database(name: str) -> bool:
    return name.startswith(RESERVED_DATABASE_PREFIXES)
