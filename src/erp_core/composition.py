"""The composition root: the one place that wires domains into the runner and the app.

Operation kinds, queue tasks, health checks, connection testers, encrypted columns and HTTP
routers are registered here, explicitly, by `main.py` (API + in-process worker), `cli.py`
(standalone worker, maintenance commands) and the test harness. No module registers itself
by being imported, so what a process can run never depends on which modules happened to be
imported first, and domains never import each other just to get registered.

Adding an operation, a periodic task or a router means one line here (see
docs/architecture.md, "Adding an operation").
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import procrastinate
from fastapi import APIRouter

from erp_core import health
from erp_core.auth import routes as auth_routes
from erp_core.backups import operations as backup_operations
from erp_core.backups import routes as backup_routes
from erp_core.backups import tasks as backup_tasks
from erp_core.backups import verify as backup_verify
from erp_core.billing import routes as billing_routes
from erp_core.billing import tasks as billing_tasks
from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.context import build_context as _build_context
from erp_core.dashboard import routes as dashboard_routes
from erp_core.domains import routes as domain_routes
from erp_core.domains import steps as domain_operations
from erp_core.domains import tasks as domain_tasks
from erp_core.infrastructure import routes as infrastructure_routes
from erp_core.infrastructure import tasks as infrastructure_tasks
from erp_core.lab import routes as lab_routes
from erp_core.lab import simulation_job
from erp_core.logs import health as health_checks
from erp_core.logs import routes as logs_routes
from erp_core.logs import vendor_checks
from erp_core.mail import tasks as mail_tasks
from erp_core.observability import routes as observability_routes
from erp_core.portal import operator_routes as portal_operator_routes
from erp_core.portal import routes as portal_routes
from erp_core.provisioning import dedicated as dedicated_operations
from erp_core.provisioning import operations as tenant_operations
from erp_core.provisioning import plan_move as plan_move_operations
from erp_core.reconciliation import fixes as reconciliation_operations
from erp_core.reconciliation import routes as reconciliation_routes
from erp_core.reconciliation import tasks as reconciliation_tasks
from erp_core.runner import engine, queue
from erp_core.runner import routes as runner_routes
from erp_core.settings import routes as settings_routes
from erp_core.settings.connection_tests import register_tester
from erp_core.settings.encrypted import register_column
from erp_core.settings.service import apply_overrides
from erp_core.templates import operations as template_operations
from erp_core.templates import routes as template_routes
from erp_core.templates import spares as template_spares
from erp_core.tenants import routes as tenant_routes

# Every operation kind a job may have, by owning domain.
OPERATION_MODULES: tuple[ModuleType, ...] = (
    tenant_operations,
    dedicated_operations,
    plan_move_operations,
    backup_operations,
    simulation_job,
    domain_operations,
    reconciliation_operations,
    template_operations,
    template_spares,
)

# Domains' periodic and one-off queue tasks: each adds its tasks to one procrastinate App.
TASK_REGISTRARS: tuple[Callable[[procrastinate.App], None], ...] = (
    backup_tasks.register_tasks,
    billing_tasks.register_tasks,
    infrastructure_tasks.register_tasks,
    mail_tasks.register_tasks,
    domain_tasks.register_tasks,
    reconciliation_tasks.register_tasks,
)

# API routers in the order they are mounted (health and auth first).
ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    auth_routes.router,
    tenant_routes.router,
    runner_routes.router,
    logs_routes.router,
    billing_routes.router,
    infrastructure_routes.router,
    dashboard_routes.router,
    settings_routes.router,
    backup_routes.router,
    observability_routes.router,
    portal_routes.router,
    portal_operator_routes.router,
    lab_routes.router,
    domain_routes.router,
    reconciliation_routes.router,
    template_routes.router,
)


def register_hooks() -> None:
    """Operation kinds, health checks, connection testers and encrypted columns (idempotent:
    every registry is keyed by name, so a second call replaces entries with themselves)."""
    for module in OPERATION_MODULES:
        engine.register(*module.OPERATIONS)
    if apply_overrides not in engine.BEFORE_JOB:
        engine.BEFORE_JOB.append(apply_overrides)
    health_checks.register_check("proxmox", "Proxmox", vendor_checks.proxmox_health)
    health_checks.register_check("stripe", "Stripe", vendor_checks.stripe_health)
    health_checks.register_check("backups", "Respaldos", backup_verify.backups_health)
    register_tester("proxmox", vendor_checks.proxmox_test)
    register_tester("stripe", vendor_checks.stripe_test)
    register_column("odoo_servers", "id", "ssh_key_enc")  # key rotation re-encrypts it
    register_column("mail_outbox", "id", "body_enc")
    register_column("checkout_sessions", "id", "admin_password_enc")
    register_column("tenant_usage_access", "tenant_id", "secret_enc")
    register_column("odoo_templates", "id", "admin_password_enc")
    register_column("odoo_spares", "id", "admin_password_enc")
    register_column("odoo_spares", "id", "service_password_enc")
    register_column("tenants", "id", "service_password_enc")  # the tenant's Odoo service user


def build_queue(database_url: str) -> procrastinate.App:
    """The runner's queue with every domain's tasks registered on it."""
    register_hooks()
    app = queue.build_queue(database_url)
    for registrar in TASK_REGISTRARS:
        registrar(app)
    return app


def build_context(settings: Settings, *, lab: Any | None = None) -> AppContext:
    """A fully wired context: the process's collaborators plus a queue that knows all tasks."""
    register_hooks()
    return _build_context(settings, queue_factory=build_queue, lab=lab)
