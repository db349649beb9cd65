"""One place that turns every failure into the seed's error envelope.

Validation errors name the offending fields by their Spanish label (`erp_core.labels` or the
schema's `Field(title=...)`) with a Spanish message per pydantic error type; unknown errors get a generic Spanish detail and a
request id, while the trace goes only to the log.
"""

from __future__ import annotations

import logging
from typing import Any, get_args

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from erp_core.api import ApiError, ErrorEnvelope, FieldError
from erp_core.labels import label_for

log = logging.getLogger(__name__)

_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "La solicitud no es válida."),
    401: ("UNAUTHORIZED", "Debe iniciar sesión para acceder a este recurso."),
    403: ("FORBIDDEN", "Su rol no permite realizar esta acción."),
    404: ("NOT_FOUND", "La ruta solicitada no existe."),
    405: ("METHOD_NOT_ALLOWED", "El método HTTP no está permitido en esta ruta."),
    406: ("NOT_ACCEPTABLE", "El formato solicitado no está disponible."),
    409: ("CONFLICT", "La operación entra en conflicto con el estado actual."),
    413: ("PAYLOAD_TOO_LARGE", "El cuerpo de la solicitud es demasiado grande."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "El tipo de contenido no está soportado."),
    422: ("VALIDATION_ERROR", "Los datos enviados no son válidos."),
    429: ("RATE_LIMITED", "Demasiadas solicitudes. Espere unos minutos."),
    500: (
        "INTERNAL_ERROR",
        "Error interno del servidor. Indique el ID de la solicitud al soporte.",
    ),
    503: ("SERVICE_UNAVAILABLE", "El servicio no está disponible en este momento."),
}

_MESSAGES_ES = {
    "missing": "Este campo es obligatorio.",
    "string_too_short": "El texto es demasiado corto.",
    "string_too_long": "El texto es demasiado largo.",
    "string_pattern_mismatch": "El formato no es válido.",
    "int_parsing": "Debe ser un número entero.",
    "float_parsing": "Debe ser un número.",
    "bool_parsing": "Debe ser verdadero o falso.",
    "greater_than_equal": "El valor es demasiado pequeño.",
    "less_than_equal": "El valor es demasiado grande.",
    "greater_than": "El valor es demasiado pequeño.",
    "less_than": "El valor es demasiado grande.",
    "literal_error": "El valor no es una de las opciones permitidas.",
    "enum": "El valor no es una de las opciones permitidas.",
    "json_invalid": "El cuerpo no es JSON válido.",
    "model_attributes_type": "Se esperaba un objeto JSON.",
    "dict_type": "Se esperaba un objeto JSON.",
    "list_type": "Se esperaba una lista.",
    "string_type": "Se esperaba un texto.",
    "int_type": "Se esperaba un número entero.",
    "datetime_parsing": "La fecha no es válida (use ISO 8601).",
    "datetime_from_date_parsing": "La fecha no es válida (use ISO 8601).",
    "date_from_datetime_parsing": "La fecha no es válida.",
    "value_error": "El valor no es válido.",
    "extra_forbidden": "Este campo no está permitido.",
    "int_from_float": "Debe ser un número entero.",
    "too_long": "Demasiados elementos.",
    "too_short": "Faltan elementos.",
    "uuid_parsing": "El identificador no es válido.",
}


def error_response(
    status: int,
    code: str,
    detail: str,
    *,
    fields: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorEnvelope.body(code, detail, fields)
    return JSONResponse(body, status_code=status, headers=headers)


def _n(value: object) -> str:
    """A bound from pydantic's context, written the Spanish way (1.000, 0,5)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(value):,}".replace(",", ".")


_EMAIL_PREFIX = "value is not a valid email address"


def _field_message(err: dict[str, Any]) -> str:
    """One pydantic / email-validator error as a Spanish sentence, with its bound if any."""
    kind = str(err.get("type", ""))
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if kind == "value_error":
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        if message.startswith(_EMAIL_PREFIX):
            return "No es una dirección de correo electrónico válida (ejemplo: nombre@empresa.com)."
        # Our own validators raise ValueError with Spanish text; anything else is generic.
        return message if message and not _looks_english(message) else _MESSAGES_ES[kind]
    if kind.startswith("value_error"):
        return _MESSAGES_ES["value_error"]
    if kind == "string_too_long" and "max_length" in ctx:
        return f"El texto es demasiado largo (máximo {_n(ctx['max_length'])} caracteres)."
    if kind == "string_too_short" and "min_length" in ctx:
        if ctx["min_length"] == 1:
            return "Este campo no puede estar vacío."
        return f"El texto es demasiado corto (mínimo {_n(ctx['min_length'])} caracteres)."
    if kind == "too_long" and "max_length" in ctx:
        return f"Demasiados elementos (máximo {_n(ctx['max_length'])})."
    if kind == "too_short" and "min_length" in ctx:
        return f"Faltan elementos (mínimo {_n(ctx['min_length'])})."
    bounds = {
        "greater_than": ("gt", "Debe ser mayor que {}."),
        "greater_than_equal": ("ge", "Debe ser como mínimo {}."),
        "less_than": ("lt", "Debe ser menor que {}."),
        "less_than_equal": ("le", "Debe ser como máximo {}."),
    }
    if kind in bounds and bounds[kind][0] in ctx:
        key, template = bounds[kind]
        return template.format(_n(ctx[key]))
    return _MESSAGES_ES.get(kind, "El valor no es válido.")


_ENGLISH_HINTS = (" is ", " must ", " should ", " not ", " the ", "invalid", "value ", " input")


def _looks_english(message: str) -> bool:
    """A validator message that slipped through in English (a library's, not ours)."""
    low = f" {message.lower()} "
    return any(hint in low for hint in _ENGLISH_HINTS)


def _title_for(request: Request | None, loc: list[str]) -> str | None:
    """The `Field(title=...)` of the body field at `loc`, if the route's schema gives one."""
    route = request.scope.get("route") if request is not None else None
    body = getattr(route, "body_field", None)
    if body is None or not loc:
        return None
    annotation: Any = getattr(getattr(body, "field_info", None), "annotation", None)
    info: Any = None
    for part in loc:
        model = _model_of(annotation)
        if model is None or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        annotation = info.annotation
    title = getattr(info, "title", None)
    return str(title) if title else None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):  # Optional[Model], Annotated[Model, ...]
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def validation_fields(
    errors: list[dict[str, Any]], request: Request | None = None
) -> list[FieldError]:
    fields = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        name = ".".join(loc) or "body"
        label = _title_for(request, loc) or label_for(name)
        fields.append(FieldError(field=name, label=label, message=_field_message(err)))
    return fields


def validation_detail(fields: list[FieldError]) -> str:
    """The banner sentence: labels, never wire names."""
    if not fields:
        return _HTTP_CODES[422][1]
    if len(fields) == 1:
        return f"{fields[0].label}: {fields[0].message}"
    labels: list[str] = []
    for f in fields:
        if f.label not in labels:
            labels.append(f.label)
    return f"Revise estos campos: {', '.join(labels[:6])}."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(
            exc.status_code, exc.code, exc.detail, fields=exc.fields, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = validation_fields(list(exc.errors()), request)
        return error_response(422, "VALIDATION_ERROR", validation_detail(fields), fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, detail = _HTTP_CODES.get(
            exc.status_code, ("HTTP_ERROR", "La solicitud no es válida.")
        )
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, detail, headers=headers)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # A value the database cannot hold (an id beyond its integer range, a malformed value
        # that slipped past validation) is the client's input, not a server fault.
        if isinstance(exc.orig, psycopg.errors.DataError):
            return error_response(
                422, "VALIDATION_ERROR", "Un valor está fuera del rango o formato permitido."
            )
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = getattr(request.state, "request_id", None)
        log.exception("unhandled error", extra={"request_id": rid, "path": request.url.path})
        code, detail = _HTTP_CODES[500]
        return error_response(500, code, detail, headers={"X-Request-ID": rid or ""})


def envelope_openapi(app: FastAPI) -> None:
    """Document errors as they are: every operation's 4XX/5XX answers are the envelope.

    FastAPI documents 422 with its own `HTTPValidationError`; our handler answers in the
    envelope, so the document is rewritten to say so (clients and fuzzers read the truth).
    """
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in (("ErrorEnvelope", ErrorEnvelope), ("FieldError", FieldError)):
            if name not in schemas:
                defs = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(defs.pop("$defs", {}))
                schemas[name] = defs
        ref = {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
            }
        }
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                for code in list(responses):
                    if code.startswith(("4", "5")):
                        responses[code] = {
                            "description": responses[code].get("description", "Error"),
                            **ref,
                        }
                if path.startswith("/api") or path == "/metrics":
                    responses.setdefault("4XX", {"description": "Error del cliente", **ref})
                    responses.setdefault("5XX", {"description": "Error del servidor", **ref})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
