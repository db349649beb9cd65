"""Which settings operators may change from the app, how they are grouped and labelled.

Only keys listed here are editable through the API; a key whose Settings field does not
exist (a room not installed) is ignored. Secrets are write-only: stored encrypted, shown
masked, never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["string", "int", "float", "bool", "url", "secret"]

CATEGORY_LABELS = {
    "general": "General",
    "odoo": "Odoo",
    "cloudflare": "Cloudflare",
    "stripe": "Stripe y facturación",
    "proxmox": "Proxmox",
    "backups": "Respaldos",
    "mail": "Correo (SMTP)",
}


@dataclass(frozen=True)
class SettingDef:
    key: str
    category: str
    label: str
    kind: Kind = "string"
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None

    @property
    def is_secret(self) -> bool:
        return self.kind == "secret"


DEFINITIONS: tuple[SettingDef, ...] = (
    SettingDef("base_domain", "general", "Dominio base", description="Los tenants se publican en <subdominio>.<dominio base>."),
    SettingDef("erp_core_public_url", "general", "URL pública del panel", "url", "Destino de los dominios suspendidos."),
    SettingDef("erp_core_verify_public_url", "general", "Verificar la URL pública", "bool", "Comprobar https://<subdominio> al aprovisionar."),
    SettingDef("erp_core_cache_ttl_seconds", "general", "Caché del panel (s)", "int"),
    SettingDef("odoo_default_language", "odoo", "Idioma por defecto", description="Código de Odoo, p. ej. es_ES."),
    SettingDef("odoo_default_country", "odoo", "País por defecto", description="Código ISO de dos letras."),
    SettingDef("odoo_timeout_seconds", "odoo", "Tiempo de espera de Odoo (s)", "float"),
    SettingDef("odoo_create_timeout_seconds", "odoo", "Tiempo máximo de creación (s)", "float"),
    SettingDef(
        "odoo_template_spares",
        "odoo",
        "Bases de reserva por plantilla",
        "int",
        description="Copias ya preparadas de cada plantilla: un alta que encuentra una tarda "
        "alrededor de un segundo. 0 las desactiva.",
    ),
    SettingDef("cloudflare_api_token", "cloudflare", "Token de API", "secret"),
    SettingDef("cloudflare_account_id", "cloudflare", "ID de cuenta"),
    SettingDef("cloudflare_zone_id", "cloudflare", "ID de zona"),
    SettingDef("cloudflare_tunnel_id", "cloudflare", "Túnel del servidor principal"),
    SettingDef("cloudflare_api_base", "cloudflare", "URL de la API", "url"),
    SettingDef("stripe_secret_key", "stripe", "Clave secreta", "secret"),
    SettingDef("stripe_webhook_secret", "stripe", "Secreto del webhook", "secret"),
    SettingDef("stripe_api_base", "stripe", "URL de la API", "url"),
    SettingDef("billing_currency", "stripe", "Moneda de facturación", description="Código ISO en minúsculas, p. ej. usd."),
    SettingDef("billing_days_until_due", "stripe", "Días hasta el vencimiento", "int"),
    SettingDef("billing_grace_days", "stripe", "Días de gracia por impago", "int"),
    SettingDef("billing_retention_days", "stripe", "Días de retención tras cancelar", "int"),
    SettingDef("proxmox_host", "proxmox", "Host (host o host:puerto)"),
    SettingDef("proxmox_token_id", "proxmox", "ID del token (usuario@realm!token)"),
    SettingDef("proxmox_token_secret", "proxmox", "Secreto del token", "secret"),
    SettingDef("proxmox_verify_ssl", "proxmox", "Verificar TLS", "bool"),
    SettingDef("proxmox_template_vmid", "proxmox", "VMID de la plantilla Odoo", "int"),
    SettingDef("proxmox_storage", "proxmox", "Almacenamiento"),
    SettingDef("proxmox_bridge", "proxmox", "Bridge de red"),
    SettingDef("proxmox_ip_pool", "proxmox", "Rango de IPs", description="primera-última, p. ej. 10.10.0.100-10.10.0.250"),
    SettingDef("proxmox_ip_prefix", "proxmox", "Prefijo de red", "int"),
    SettingDef("proxmox_gateway", "proxmox", "Puerta de enlace"),
    SettingDef("proxmox_node_tunnels", "proxmox", "Túneles por nodo", description="nodo=túnel,…"),
    SettingDef("odoo_template_master_password", "proxmox", "Contraseña maestra de la plantilla", "secret"),
    SettingDef("backup_dir", "backups", "Directorio de respaldos"),
    SettingDef("backup_store", "backups", "Almacenamiento", description="local o s3"),
    SettingDef("backup_s3_bucket", "backups", "Bucket S3"),
    SettingDef("backup_s3_endpoint_url", "backups", "URL del servicio S3", "url", "Vacía: AWS S3; o MinIO, Ceph…"),
    SettingDef("backup_s3_prefix", "backups", "Prefijo en el bucket"),
    SettingDef("backup_s3_region", "backups", "Región S3"),
    SettingDef("backup_s3_access_key_id", "backups", "ID de clave de acceso S3"),
    SettingDef("backup_s3_secret_access_key", "backups", "Clave secreta S3", "secret"),
    SettingDef("smtp_host", "mail", "Servidor SMTP", description="Vacío: no se envía correo (queda en la cola)."),
    SettingDef("smtp_port", "mail", "Puerto SMTP", "int"),
    SettingDef("smtp_username", "mail", "Usuario SMTP"),
    SettingDef("smtp_password", "mail", "Contraseña SMTP", "secret"),
    SettingDef("smtp_from", "mail", "Remitente", description="p. ej. Jeturing <no-reply@sajet.us>"),
    SettingDef("smtp_starttls", "mail", "Usar STARTTLS", "bool"),
    SettingDef("support_email", "general", "Correo de soporte", description="Se muestra a los clientes en la página de suspensión."),
    SettingDef("support_url", "general", "Página de soporte", "url", "Enlace de contacto en la página de suspensión."),
)  # fmt: skip

# Sensible ranges for numeric settings: a TTL of 99999999999 s is a typo, not a wish.
BOUNDS: dict[str, tuple[float, float]] = {
    "erp_core_cache_ttl_seconds": (0, 86_400),
    "odoo_timeout_seconds": (1, 3_600),
    "odoo_create_timeout_seconds": (10, 86_400),
    "odoo_template_spares": (0, 20),
    "billing_days_until_due": (0, 365),
    "billing_grace_days": (0, 365),
    "billing_retention_days": (0, 3_650),
    "proxmox_template_vmid": (100, 999_999_999),
    "proxmox_ip_prefix": (1, 32),
}
DEFINITIONS = tuple(
    SettingDef(d.key, d.category, d.label, d.kind, d.description, *BOUNDS[d.key])
    if d.key in BOUNDS
    else d
    for d in DEFINITIONS
)

BY_KEY = {d.key: d for d in DEFINITIONS}
