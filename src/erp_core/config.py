"""Settings from the environment (and an optional .env file).

Names follow the seed (DATABASE_URL, STRIPE_SECRET_KEY, ...) so an operator's existing
environment keeps working. Nothing here carries a default credential: keys that are missing
in development are generated once and kept under the var/ folder by `ensure_local_keys`.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_var_dir() -> Path:
    return Path.cwd() / "var"


class Settings(BaseSettings):
    """Every knob of the control plane; field names are the environment names, lowercased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # Storage and runtime
    database_url: str | None = None
    redis_url: str | None = None
    erp_core_var_dir: Path = Field(default_factory=_default_var_dir)
    erp_core_host: str = "127.0.0.1"
    erp_core_port: int = 4443
    erp_core_worker_in_process: bool = True
    erp_core_worker_concurrency: int = 4
    erp_core_stalled_after_seconds: float = 30.0
    erp_core_log_format: str = "json"
    erp_core_log_level: str = "INFO"
    erp_core_cors_origins: str = ""
    erp_core_metrics_token: str | None = None
    erp_core_cache_ttl_seconds: int = 15
    erp_core_db_pool_size: int = 10

    # Secrets and the first admin
    jwt_secret_key: str | None = None
    erp_core_secret_key: str | None = None
    erp_core_admin_email: str | None = None
    erp_core_admin_password: str | None = None
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 14 * 24 * 3600
    login_rate_limit_per_ip: int = 20
    login_rate_limit_per_account: int = 5
    login_rate_limit_window_seconds: int = 300

    # Public surface
    base_domain: str = "sajet.us"
    erp_core_public_url: str = "http://127.0.0.1:4443"
    erp_core_verify_public_url: bool = True
    erp_core_public_check_via: str | None = None
    backup_dir: Path | None = None

    # Odoo default server
    odoo_url: str | None = None
    odoo_master_password: str | None = None
    odoo_capacity: int = 50
    odoo_default_language: str = "es_ES"
    odoo_default_country: str | None = None
    # Contact shown to customers on the public suspension page.
    support_email: str | None = None
    support_url: str | None = None
    odoo_timeout_seconds: float = 30.0
    odoo_create_timeout_seconds: float = 600.0
    # Prepared clones kept per ready template (issue 15): a create that finds one only
    # renames and personalises it. 0 switches them off.
    odoo_template_spares: int = 2

    # Cloudflare
    cloudflare_api_token: str | None = None
    cloudflare_account_id: str | None = None
    cloudflare_zone_id: str | None = None
    cloudflare_tunnel_id: str | None = None
    cloudflare_api_base: str = "https://api.cloudflare.com/client/v4"

    # Stripe
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    billing_currency: str = "usd"
    billing_days_until_due: int = 7
    billing_grace_days: int = 7
    billing_retention_days: int = 30
    # --- billing: self-service checkout (issue 5) ---
    billing_checkout_success_url: str | None = None
    billing_checkout_cancel_url: str | None = None
    billing_checkout_rate_limit_per_hour: int = 10
    # --- end billing checkout ---
    # --- customer portal and e-mail (issue 16) ---
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Jeturing <no-reply@sajet.us>"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 15.0
    portal_signup_rate_limit_per_ip: int = 10  # per hour
    portal_signup_rate_limit_per_email: int = 3  # per hour
    portal_reset_rate_limit_per_ip: int = 10  # per hour
    portal_reset_rate_limit_per_email: int = 3  # per hour
    portal_availability_rate_limit_per_ip: int = 120  # per minute
    portal_verify_token_ttl_hours: int = 48
    portal_reset_token_ttl_minutes: int = 60
    # --- end customer portal ---

    # Provisioning engine
    job_step_max_attempts: int = 5
    job_retry_base_seconds: float = 1.0
    job_retry_max_seconds: float = 60.0

    # --- Proxmox cluster and dedicated tenants (infrastructure; see docs/infrastructure.md) ---
    proxmox_host: str | None = None  # host or host:port (default port 8006)
    proxmox_token_id: str | None = None  # USER@REALM!TOKENID
    proxmox_token_secret: str | None = None
    proxmox_verify_ssl: bool = True
    proxmox_ca_bundle: str | None = None  # PEM file trusted for the API's certificate
    proxmox_timeout_seconds: float = 30.0
    proxmox_task_timeout_seconds: float = 600.0
    proxmox_task_poll_seconds: float = 1.0
    proxmox_template_vmid: int | None = None
    proxmox_storage: str | None = None
    proxmox_bridge: str = "vmbr0"
    proxmox_full_clone: bool = True
    proxmox_vmid_min: int = 1000
    proxmox_vmid_max: int = 999_999
    proxmox_ip_pool: str | None = None  # first-last, e.g. 10.10.0.100-10.10.0.250
    proxmox_ip_prefix: int = 24
    proxmox_gateway: str | None = None
    proxmox_node_tunnels: str = ""  # node=tunnel_id,node2=tunnel_id2
    proxmox_sync_interval_seconds: int = 60
    odoo_container_port: int = 8069
    odoo_template_master_password: str | None = None
    odoo_container_start_timeout_seconds: float = 300.0
    placement_min_ram_free_pct: float = 20.0
    placement_min_cpu_idle_pct: float = 50.0
    placement_allow_overcommit: bool = False
    metrics_raw_retention_days: int = 7
    metrics_hourly_retention_days: int = 396  # 13 months

    @property
    def proxmox_configured(self) -> bool:
        return bool(self.proxmox_host and self.proxmox_token_id and self.proxmox_token_secret)

    @property
    def proxmox_node_tunnel_map(self) -> dict[str, str]:
        """PROXMOX_NODE_TUNNELS parsed: node name → Cloudflare tunnel id."""
        pairs = (item.partition("=") for item in self.proxmox_node_tunnels.split(","))
        return {
            node.strip(): tunnel.strip()
            for node, _, tunnel in pairs
            if node.strip() and tunnel.strip()
        }

    # --- end of the Proxmox block ---

    # --- Drift audit and usage (issue 18) ---
    # What happens once a tenant is over its plan's limits: "off" only flags it (finding,
    # dashboard, tenant page); "notify" also calls the notification hook (e-mail, once an
    # e-mail system exists). Nothing is suspended or blocked automatically.
    usage_limit_policy: Literal["off", "notify"] = "off"
    usage_read_concurrency: int = Field(default=4, ge=1, le=32)
    # --- end of the drift block ---

    # --- Backups (issue 8; see docs/backups.md) ---
    backup_store: str = "local"  # local | s3 (an S3-compatible bucket: see docs/backups.md)
    backup_window_start: int = Field(default=1, ge=0, le=23)  # UTC hour, inclusive
    backup_window_end: int = Field(default=5, ge=0, le=24)  # UTC hour, exclusive (wraps)
    backup_max_per_server: int = Field(default=1, ge=1)
    backup_retention_daily: int = Field(default=7, ge=0)
    backup_retention_weekly: int = Field(default=4, ge=0)
    backup_retention_monthly: int = Field(default=3, ge=0)
    backup_other_retention_days: int = Field(default=90, ge=1)
    backup_verify_sample: int = Field(default=3, ge=0)
    backup_verify_cron: str = "0 5 * * 0"  # weekly restore drill (Sunday 05:00 UTC)
    backup_s3_bucket: str | None = None
    backup_s3_endpoint_url: str | None = None
    backup_s3_prefix: str = ""
    backup_s3_region: str = "us-east-1"
    backup_s3_access_key_id: str | None = None
    backup_s3_secret_access_key: str | None = None
    # --- end of the Backups block ---

    @field_validator("database_url", "redis_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def var_dir(self) -> Path:
        return self.erp_core_var_dir.resolve()

    @property
    def effective_backup_dir(self) -> Path:
        return (self.backup_dir or self.var_dir / "backups").resolve()

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.erp_core_cors_origins.split(",") if o.strip()]

    @property
    def cloudflare_configured(self) -> bool:
        return bool(
            self.cloudflare_api_token and self.cloudflare_account_id and self.cloudflare_zone_id
        )

    @property
    def stripe_configured(self) -> bool:
        return bool(self.stripe_secret_key)


def _load_or_create_key(path: Path) -> str:
    """Read a key file, or create it with 0600 permissions: a dev key survives restarts."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value)
    return value


def ensure_local_keys(settings: Settings) -> Settings:
    """Fill missing JWT/encryption keys from var/ (generated on first use, never hard-coded)."""
    keys_dir = settings.var_dir / "keys"
    if not settings.jwt_secret_key:
        settings.jwt_secret_key = _load_or_create_key(keys_dir / "jwt_secret")
    if not settings.erp_core_secret_key:
        settings.erp_core_secret_key = _load_or_create_key(keys_dir / "secret_key")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, with local keys filled in."""
    return ensure_local_keys(Settings())
