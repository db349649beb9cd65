"""The seed's response envelope, the error classes and pagination.

Every /api answer is `{"success": true, "data": ..., "meta": {...}}` or
`{"success": false, "error": CODE, "detail": "<Spanish sentence>"}`; one handler renders
errors, so routes only raise.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field, model_validator

from erp_core.error_codes import ErrorCode
from erp_core.labels import label_for

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    """A successful answer."""

    success: bool = True
    data: T
    meta: dict[str, Any] = Field(default_factory=dict)


class FieldError(BaseModel):
    """One invalid field: `field` for programs, `label` and `message` (Spanish) for people.

    The label defaults to the field's entry in `erp_core.labels`, so a route raising
    `FieldError(field="value", ...)` still shows the operator a Spanish name.
    """

    field: str
    label: str = ""
    message: str

    @model_validator(mode="after")
    def _default_label(self) -> FieldError:
        if not self.label:
            self.label = label_for(self.field)
        return self


class ErrorEnvelope(BaseModel):
    """A failed answer: a stable code for programs, a Spanish detail for people."""

    success: bool = False
    error: ErrorCode
    detail: str
    fields: list[FieldError] | None = None

    @staticmethod
    def body(code: str, detail: str, fields: list[FieldError] | None = None) -> dict[str, Any]:
        """The JSON body, built without re-validating `code` at answer time: an error must
        never turn into a 500 (tests/test_error_codes.py keeps the enum complete)."""
        out: dict[str, Any] = {"success": False, "error": str(code), "detail": detail}
        if fields is not None:
            out["fields"] = [f.model_dump() for f in fields]
        return out


class ListMeta(BaseModel):
    total: int
    page: int
    per_page: int


class Page(BaseModel, Generic[T]):
    """A list answer with the seed's pagination meta."""

    success: bool = True
    data: list[T]
    meta: ListMeta


def ok(data: Any, **meta: Any) -> dict[str, Any]:
    return {"success": True, "data": data, "meta": meta}


class Pagination:
    """`page`/`per_page` query parameters, bounded so a client cannot ask for everything."""

    def __init__(
        self,
        page: int = Query(1, ge=1, le=1_000_000, description="Página (desde 1)"),
        per_page: int = Query(25, ge=1, le=200, description="Elementos por página"),
    ) -> None:
        self.page = page
        self.per_page = per_page

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def meta(self, total: int) -> ListMeta:
        return ListMeta(total=total, page=self.page, per_page=self.per_page)


class ApiError(Exception):
    """Base of every error a route may raise; `code` is stable, `detail` is Spanish."""

    status_code = 400
    code = "BAD_REQUEST"
    default_detail = "La solicitud no es válida."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        fields: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        if code:
            self.code = code
        self.fields = fields
        self.headers = headers
        super().__init__(self.detail)

    def envelope(self) -> dict[str, Any]:
        return ErrorEnvelope.body(self.code, self.detail, self.fields)


class BadRequest(ApiError):
    status_code = 400
    code = "BAD_REQUEST"


class Unauthorized(ApiError):
    status_code = 401
    code = "UNAUTHORIZED"
    default_detail = "Debe iniciar sesión para acceder a este recurso."

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status_code = 403
    code = "FORBIDDEN"
    default_detail = "Su rol no permite realizar esta acción."


class NotFound(ApiError):
    status_code = 404
    code = "NOT_FOUND"
    default_detail = "El recurso solicitado no existe."


class Conflict(ApiError):
    status_code = 409
    code = "CONFLICT"
    default_detail = "La operación entra en conflicto con el estado actual."


class ValidationFailed(ApiError):
    status_code = 422
    code = "VALIDATION_ERROR"
    default_detail = "Los datos enviados no son válidos."


class RateLimited(ApiError):
    status_code = 429
    code = "RATE_LIMITED"
    default_detail = "Demasiados intentos. Espere unos minutos e inténtelo de nuevo."

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_detail = "El servicio no está disponible en este momento."


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error envelope for the given statuses."""
    return {code: {"model": ErrorEnvelope} for code in codes}
