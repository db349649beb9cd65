"""Stripe through the official SDK (``StripeClient``, async calls over httpx).

Creates carry deterministic idempotency keys (Stripe replays the first answer for 24 h), so a
retried provisioning step or a double click never makes a second customer or subscription.
SDK objects never leave this module: answers become plain dicts or ``drivers.base`` values.
SDK exceptions become :class:`DriverError` with Spanish messages; the secret key never
appears in them. ``api_base`` points the SDK at the lab emulator in tests and ``--lab``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import stripe

from erp_core.drivers.base import (
    BillingPrice,
    CheckoutLink,
    DriverError,
    PermanentDriverError,
    TransientDriverError,
    WebhookRejected,
)

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "StripeGateway", "verify_webhook"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")
DEFAULT_TOLERANCE_SECONDS = 300
_MAX_PAGES = 10_000


def verify_webhook(
    payload: bytes, signature: str | None, secret: str, *, tolerance: int = 300
) -> dict[str, Any]:
    """Check ``Stripe-Signature`` with the SDK and return the event as a dict.

    Raises :class:`WebhookRejected` for a missing/invalid/stale signature or a payload
    that is not a JSON event object.
    """
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(
            "La firma del webhook de Stripe no es válida o ha caducado.",
            vendor_detail=str(exc.user_message or "")[:300],
        ) from exc
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookRejected("El cuerpo del webhook no es JSON válido.") from exc
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookRejected("El webhook no tiene la forma de un evento de Stripe.")
    return event


def _to_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, stripe.StripeObject):
        result: dict[str, Any] = obj.to_dict()
        return result
    return dict(obj)


def _map_error(exc: stripe.StripeError, action: str) -> DriverError:
    detail = str(exc.user_message or "")[:500]
    code = getattr(exc, "code", None)
    status = exc.http_status
    if isinstance(exc, stripe.APIConnectionError):
        return TransientDriverError(
            f"No se pudo conectar con Stripe al {action}.", vendor_detail=detail
        )
    if isinstance(exc, stripe.RateLimitError):
        return TransientDriverError(
            f"Stripe limitó las solicitudes al {action}; se reintentará.",
            vendor_detail=detail,
            status_code=status,
        )
    if isinstance(exc, stripe.AuthenticationError):
        return PermanentDriverError(
            "Stripe rechazó la clave secreta configurada (STRIPE_SECRET_KEY).",
            status_code=status,
        )
    if isinstance(exc, stripe.PermissionError):
        return PermanentDriverError(
            f"La clave de Stripe no tiene permiso para {action}.", status_code=status
        )
    if isinstance(exc, stripe.IdempotencyError):
        return PermanentDriverError(
            f"Stripe detectó una repetición con otros datos al {action}.",
            vendor_detail=detail,
            status_code=status,
        )
    if status is not None and status >= 500:
        return TransientDriverError(
            f"Stripe no está disponible ({status}) al {action}.",
            vendor_detail=detail,
            status_code=status,
        )
    if isinstance(exc, stripe.InvalidRequestError) and status == 404:
        return PermanentDriverError(
            f"Stripe no encontró el objeto al {action}.",
            vendor_detail=detail,
            vendor_code=code,
            status_code=status,
        )
    return PermanentDriverError(
        f"Stripe rechazó la solicitud al {action}.",
        vendor_detail=detail,
        vendor_code=code,
        status_code=status,
    )


def _price(raw: dict[str, Any]) -> BillingPrice:
    recurring = raw.get("recurring") or {}
    product = raw.get("product")
    return BillingPrice(
        id=str(raw["id"]),
        unit_amount=int(raw.get("unit_amount") or 0),
        currency=str(raw.get("currency") or ""),
        interval=str(recurring.get("interval") or ""),
        interval_count=int(recurring.get("interval_count") or 1),
        active=bool(raw.get("active", True)),
        product_id=product if isinstance(product, str) else None,
    )


class StripeGateway:
    """One Stripe account. ``max_retries`` is the SDK's own network retry count; keep it
    small, the job queue retries :class:`TransientDriverError` with its own backoff."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 1,
    ) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout)
        addresses: dict[str, str] = {"api": api_base.rstrip("/")} if api_base else {}
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=addresses,  # type: ignore[arg-type]
            http_client=self._http,
            max_network_retries=max_retries,
        )

    async def _call(self, action: str, call: Callable[[], Awaitable[_T]]) -> _T:
        try:
            return await call()
        except stripe.StripeError as exc:
            error = _map_error(exc, action)
            log.warning(
                "stripe call failed",
                extra={"action": action, "status": exc.http_status, "code": error.vendor_code},
            )
            raise error from exc

    async def create_customer(
        self, *, email: str, name: str, metadata: dict[str, str], idempotency_key: str
    ) -> dict[str, object]:
        customer = await self._call(
            "crear el cliente",
            lambda: self._client.v1.customers.create_async(
                {"email": email, "name": name, "metadata": metadata},
                {"idempotency_key": idempotency_key},
            ),
        )
        return _to_dict(customer)

    async def create_price(
        self,
        *,
        product_name: str,
        unit_amount: int,
        currency: str,
        interval: str,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> BillingPrice:
        price = await self._call(
            "crear el precio",
            lambda: self._client.v1.prices.create_async(
                {
                    "currency": currency,
                    "unit_amount": unit_amount,
                    "recurring": {"interval": interval},  # type: ignore[typeddict-item]
                    "product_data": {"name": product_name},
                    "metadata": metadata or {},
                },
                {"idempotency_key": idempotency_key},
            ),
        )
        return _price(_to_dict(price))

    async def get_price(self, price_id: str) -> BillingPrice:
        price = await self._call(
            "consultar el precio", lambda: self._client.v1.prices.retrieve_async(price_id)
        )
        return _price(_to_dict(price))

    async def create_subscription(
        self,
        *,
        customer_id: str,
        price_id: str,
        metadata: dict[str, str],
        days_until_due: int,
        idempotency_key: str,
        quantity: int = 1,
    ) -> dict[str, object]:
        subscription = await self._call(
            "crear la suscripción",
            lambda: self._client.v1.subscriptions.create_async(
                {
                    "customer": customer_id,
                    "items": [{"price": price_id, "quantity": quantity}],
                    "collection_method": "send_invoice",
                    "days_until_due": days_until_due,
                    "metadata": metadata,
                },
                {"idempotency_key": idempotency_key},
            ),
        )
        return _to_dict(subscription)

    async def create_checkout_session(
        self,
        *,
        price_id: str,
        customer_email: str,
        metadata: dict[str, str],
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutLink:
        session = await self._call(
            "abrir el pago",
            lambda: self._client.v1.checkout.sessions.create_async(
                {
                    "mode": "subscription",
                    "line_items": [{"price": price_id, "quantity": 1}],
                    "customer_email": customer_email,
                    "metadata": metadata,
                    "subscription_data": {"metadata": metadata},
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                },
                {"idempotency_key": idempotency_key},
            ),
        )
        raw = _to_dict(session)
        return CheckoutLink(id=str(raw["id"]), url=str(raw.get("url") or ""))

    async def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        session = await self._call(
            "consultar el pago",
            lambda: self._client.v1.checkout.sessions.retrieve_async(session_id),
        )
        return _to_dict(session)

    async def expire_checkout_session(self, session_id: str) -> dict[str, Any]:
        """Close an open Checkout session so it can never be paid (before a new one opens)."""
        session = await self._call(
            "cerrar el pago anterior",
            lambda: self._client.v1.checkout.sessions.expire_async(session_id),
        )
        return _to_dict(session)

    async def list_invoices(
        self, *, created_gte: int | None = None, page_size: int = 100
    ) -> AsyncIterator[dict[str, object]]:
        """Every invoice (newest first), following ``has_more``/``starting_after``."""
        params: dict[str, Any] = {"limit": page_size}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        for _ in range(_MAX_PAGES):
            page = await self._call(
                "listar las facturas",
                lambda p=dict(params): self._client.v1.invoices.list_async(p),  # type: ignore[misc]
            )
            raw = _to_dict(page)
            items = raw.get("data") or []
            for item in items:
                yield item
            if not raw.get("has_more") or not items:
                return
            params["starting_after"] = items[-1]["id"]
        raise PermanentDriverError("Stripe devolvió demasiadas páginas de facturas.")

    async def get_coupon(self, coupon_id: str) -> dict[str, object]:
        coupon = await self._call(
            "consultar el cupón", lambda: self._client.v1.coupons.retrieve_async(coupon_id)
        )
        return _to_dict(coupon)

    # --- customer portal (issue 16) ---

    async def create_billing_portal_session(self, *, customer_id: str, return_url: str) -> str:
        """A Stripe Customer Portal session; returns the URL the customer is sent to."""
        portal = await self._call(
            "abrir el portal de facturación",
            lambda: self._client.v1.billing_portal.sessions.create_async(
                {"customer": customer_id, "return_url": return_url}
            ),
        )
        return str(_to_dict(portal).get("url") or "")

    async def change_subscription_price(
        self, *, subscription_id: str, price_id: str, idempotency_key: str
    ) -> dict[str, Any]:
        """Swap the subscription's (single) item to `price_id`, prorated from now."""
        current = _to_dict(
            await self._call(
                "consultar la suscripción",
                lambda: self._client.v1.subscriptions.retrieve_async(subscription_id),
            )
        )
        items = (current.get("items") or {}).get("data") or []
        if not items:
            raise PermanentDriverError("La suscripción de Stripe no tiene conceptos.")
        item_id = str(items[0]["id"])
        updated = await self._call(
            "cambiar el plan",
            lambda: self._client.v1.subscriptions.update_async(
                subscription_id,
                {
                    "items": [{"id": item_id, "price": price_id}],
                    "proration_behavior": "create_prorations",
                },
                {"idempotency_key": idempotency_key},
            ),
        )
        return _to_dict(updated)

    async def upcoming_invoice(self, *, customer_id: str, subscription_id: str) -> dict[str, Any]:
        """The next invoice as Stripe previews it (proration lines included)."""
        preview = await self._call(
            "consultar la próxima factura",
            lambda: self._client.v1.invoices.create_preview_async(
                {"customer": customer_id, "subscription": subscription_id}
            ),
        )
        return _to_dict(preview)

    async def cancel_at_period_end(
        self, *, subscription_id: str, idempotency_key: str
    ) -> dict[str, Any]:
        updated = await self._call(
            "programar la cancelación",
            lambda: self._client.v1.subscriptions.update_async(
                subscription_id,
                {"cancel_at_period_end": True},
                {"idempotency_key": idempotency_key},
            ),
        )
        return _to_dict(updated)

    async def aclose(self) -> None:
        try:
            await self._http.close_async()  # type: ignore[no-untyped-call]
        except Exception:  # closing must never mask the caller's result
            log.debug("stripe http client close failed", exc_info=True)


async def list_subscriptions(
    gateway: StripeGateway, *, status: str = "all", page_size: int = 100
) -> AsyncIterator[dict[str, object]]:
    """Every subscription (issue 18's audit), one page walk via ``has_more``/``starting_after``."""
    params: dict[str, Any] = {"limit": page_size, "status": status}
    for _ in range(_MAX_PAGES):
        page = await gateway._call(
            "listar las suscripciones",
            lambda p=dict(params): gateway._client.v1.subscriptions.list_async(p),  # type: ignore[misc]
        )
        raw = _to_dict(page)
        items = raw.get("data") or []
        for item in items:
            yield item
        if not raw.get("has_more") or not items:
            return
        params["starting_after"] = items[-1]["id"]
    raise PermanentDriverError("Stripe devolvió demasiadas páginas de suscripciones.")


async def retrieve_subscription(gateway: StripeGateway, subscription_id: str) -> dict[str, Any]:
    sub = await gateway._call(
        "consultar la suscripción",
        lambda: gateway._client.v1.subscriptions.retrieve_async(subscription_id),
    )
    return _to_dict(sub)


async def cancel_subscription(gateway: StripeGateway, subscription_id: str) -> dict[str, Any]:
    """Cancel now (Stripe's DELETE); the caller checks the status first so a retry no-ops."""
    sub = await gateway._call(
        "cancelar la suscripción",
        lambda: gateway._client.v1.subscriptions.cancel_async(subscription_id),
    )
    return _to_dict(sub)
