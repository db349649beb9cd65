"""The customer behind a request: every portal query is scoped by `customer_id` from here.

Operators are refused on customer routes (403, `CUSTOMERS_ONLY`): the portal answers "my
objects", which has no meaning for an operator, and an operator who wants to see a
customer's view has `/api/customers/{id}`. Customers are refused on operator routes by the
role ranks in `erp_core.deps` (the `customer` role has no rank there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from erp_core.api import Forbidden
from erp_core.deps import Actor, Session, current_actor
from erp_core.models import User


@dataclass(frozen=True)
class CustomerActor:
    actor: Actor
    user_id: int
    customer_id: int
    email: str
    verified: bool


async def current_customer(
    actor: Annotated[Actor, Depends(current_actor)], session: Session
) -> CustomerActor:
    if actor.role != "customer" or actor.user_id is None:
        raise Forbidden("Esta sección es solo para clientes.", code="CUSTOMERS_ONLY")
    user = await session.get(User, actor.user_id)
    if user is None or user.customer_id is None:
        raise Forbidden("Esta sección es solo para clientes.", code="CUSTOMERS_ONLY")
    return CustomerActor(
        actor, user.id, user.customer_id, user.email, user.email_verified_at is not None
    )


CurrentCustomer = Annotated[CustomerActor, Depends(current_customer)]
