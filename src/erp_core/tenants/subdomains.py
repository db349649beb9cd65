"""What makes a subdomain acceptable: DNS-safe, not reserved, not taken by a live tenant."""

from __future__ import annotations

import re

SUBDOMAIN_RE = re.compile(r"^[a-z0-9-]+$")
MIN_LENGTH = 3
MAX_LENGTH = 63
RESERVED = frozenset(
    {
        "www", "api", "admin", "mail", "app", "status", "smtp", "imap", "pop", "ftp", "ns1",
        "ns2", "dns", "mx", "webmail", "cpanel", "panel", "core", "erp", "odoo", "billing",
        "pay", "payments", "stripe", "support", "help", "docs", "blog", "static", "assets",
        "cdn", "media", "files", "backup", "backups", "test", "staging", "dev", "demo", "lab",
        "root", "jeturing", "sajet", "login", "auth", "sso", "security", "portal", "dashboard",
        "grafana", "prometheus", "metrics", "monitor", "proxmox", "pve", "tunnel", "vpn",
    }
)  # fmt: skip


def subdomain_problem(value: str) -> str | None:
    """The Spanish reason a subdomain is not acceptable, or None when its form is fine."""
    if len(value) < MIN_LENGTH:
        return f"El subdominio debe tener al menos {MIN_LENGTH} caracteres."
    if len(value) > MAX_LENGTH:
        return f"El subdominio no puede superar {MAX_LENGTH} caracteres."
    if not SUBDOMAIN_RE.match(value):
        return "Solo se permiten letras minúsculas, números y guiones (a-z, 0-9, -)."
    if value.startswith("-") or value.endswith("-"):
        return "El subdominio no puede empezar ni terminar con guion."
    if "--" in value:
        return "El subdominio no puede contener dos guiones seguidos."
    if value in RESERVED:
        return f"El subdominio «{value}» está reservado."
    return None
