"""All models, imported here so Alembic sees the whole metadata."""

from erp_core.models import history as _history  # noqa: F401  (registers the flush hook)
from erp_core.models.backups import Backup
from erp_core.models.base import Base
from erp_core.models.billing import (
    CheckoutSession,
    Coupon,
    Discount,
    Invoice,
    RefundObservation,
    SubscriptionItem,
    SubscriptionState,
)
from erp_core.models.customers import Customer, Plan, StripeEvent, Subscription
from erp_core.models.domains import TenantDomain
from erp_core.models.infra_extra import DedicatedContainer, MetricRollup
from erp_core.models.infrastructure import LxcContainer, ProxmoxNode, ResourceMetric
from erp_core.models.jobs import Job, JobLog, JobStep
from erp_core.models.portal import MailOutbox, PortalToken
from erp_core.models.reconciliation import (
    ReconciliationFinding,
    TenantUsage,
    TenantUsageAccess,
)
from erp_core.models.templates import OdooSpare, OdooTemplate
from erp_core.models.tenants import OdooServer, Tenant, TenantDeployment, TenantStatusChange
from erp_core.models.users import AuditLog, RefreshToken, SystemConfig, User

__all__ = [
    "AuditLog",
    "Backup",
    "Base",
    "CheckoutSession",
    "Coupon",
    "Customer",
    "DedicatedContainer",
    "Discount",
    "Invoice",
    "Job",
    "JobLog",
    "JobStep",
    "LxcContainer",
    "MailOutbox",
    "MetricRollup",
    "OdooServer",
    "OdooSpare",
    "OdooTemplate",
    "Plan",
    "PortalToken",
    "ProxmoxNode",
    "ReconciliationFinding",
    "RefreshToken",
    "RefundObservation",
    "ResourceMetric",
    "StripeEvent",
    "Subscription",
    "SubscriptionItem",
    "SubscriptionState",
    "SystemConfig",
    "Tenant",
    "TenantDeployment",
    "TenantDomain",
    "TenantStatusChange",
    "TenantUsage",
    "TenantUsageAccess",
    "User",
]
