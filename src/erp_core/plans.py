"""Plans are rows: the one place that says what a plan code is and whether it can be sold.

Schemas accept any well-formed code (`PlanCode`); services check it against the `plans`
table (`require_plan`), so a plan an operator creates through the API is usable at once,
with no code change or deploy.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import FieldError, ValidationFailed
from erp_core.models import Plan

PLAN_CODE_RE = r"^[a-z0-9][a-z0-9_-]{0,31}$"
PlanCode = Annotated[str, StringConstraints(pattern=PLAN_CODE_RE, max_length=32)]
DEFAULT_PLANS = (("basic", "Básico"), ("pro", "Pro"), ("enterprise", "Enterprise"))
# A plan change between shared and dedicated hosting moves the database (provisioning/
# plan_move.py); the downtime stated to the customer before they confirm. Lock, verified
# backup, restore, switch and the HTTP check of an ordinary database take minutes; the
# figure leaves room for a large one.
MOVE_DOWNTIME_MINUTES = 15


async def ensure_plans(session: AsyncSession, currency: str) -> None:
    """The three default plans exist (prices unset until an admin maps them)."""
    await session.execute(
        insert(Plan)
        .values(
            [
                {
                    "code": code,
                    "name": name,
                    "currency": currency,
                    "dedicated": code == "enterprise",
                }
                for code, name in DEFAULT_PLANS
            ]
        )
        .on_conflict_do_nothing(index_elements=["code"])
    )


async def require_plan(session: AsyncSession, currency: str, code: str) -> Plan:
    """The active plan `code`, or a 422 naming the field (defaults are created on first use)."""
    await ensure_plans(session, currency)
    plan = await session.scalar(select(Plan).where(Plan.code == code, Plan.active))
    if plan is None:
        raise ValidationFailed(
            f"El plan «{code}» no existe o no está activo.",
            code="PLAN_NOT_FOUND",
            fields=[FieldError(field="plan", message="Elija un plan existente y activo.")],
        )
    return plan
