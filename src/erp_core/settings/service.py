"""Settings stored in system_config override the environment; secrets are encrypted at rest.

`apply_overrides` copies the stored values onto the process's Settings (decrypting secrets),
so every driver reads one effective configuration. It runs at start, after each change and
at the start of every job, so workers in other processes pick changes up too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp_core.api import FieldError, NotFound, ValidationFailed
from erp_core.config import Settings
from erp_core.context import AppContext
from erp_core.models import SystemConfig
from erp_core.security import SecretBox, mask_secret
from erp_core.settings.codes import ISO_COUNTRIES, ODOO_LANGUAGES
from erp_core.settings.encrypted import rotate_all
from erp_core.settings.registry import BY_KEY, CATEGORY_LABELS, DEFINITIONS, SettingDef

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
BASE_KEY = "settings_base"


def _available(ctx: AppContext) -> list[SettingDef]:
    return [d for d in DEFINITIONS if d.key in Settings.model_fields]


def _base(ctx: AppContext) -> dict[str, Any]:
    """The values the process started with (environment, .env or defaults), before overrides."""
    base: dict[str, Any] | None = ctx.extras.get(BASE_KEY)
    if base is None:
        base = {d.key: getattr(ctx.settings, d.key) for d in _available(ctx)}
        base["__set__"] = set(ctx.settings.model_fields_set)
        ctx.extras[BASE_KEY] = base
    return base


def parse(definition: SettingDef, raw: str) -> Any:
    """Validate a raw string against the Settings field's type; Spanish error on failure."""
    annotation = Settings.model_fields[definition.key].annotation
    value: Any = raw.strip()
    if definition.kind == "url" and value and not value.startswith(("http://", "https://")):
        raise ValueError("Debe ser una URL que empiece por http:// o https://.")
    if definition.key == "billing_currency" and (len(value) != 3 or not value.isalpha()):
        raise ValueError("Debe ser un código de moneda ISO de tres letras.")
    if definition.key == "base_domain" and ("." not in value or "/" in value or " " in value):
        raise ValueError("Debe ser un nombre de dominio, p. ej. sajet.us.")
    if value == "" and _optional(annotation):
        return None
    if definition.key == "odoo_default_language" and value not in ODOO_LANGUAGES:
        raise ValueError("Debe ser un código de idioma de Odoo, p. ej. es_ES, es_MX o en_US.")
    if definition.key == "odoo_default_country":
        value = value.upper()
        if value not in ISO_COUNTRIES:
            raise ValueError("Debe ser un código de país ISO 3166 de dos letras, p. ej. ES o MX.")
    if definition.key == "support_email" and not _EMAIL.fullmatch(value):
        raise ValueError("Debe ser una dirección de correo electrónico, p. ej. soporte@sajet.us.")
    try:
        parsed = TypeAdapter[Any](annotation).validate_python(value)  # type: ignore[arg-type]
    except ValidationError as exc:
        kind = exc.errors()[0]["type"]
        messages = {
            "int_parsing": "Debe ser un número entero.",
            "bool_parsing": "Debe ser sí o no (true/false).",
            "float_parsing": "Debe ser un número.",
        }
        raise ValueError(messages.get(kind, "El valor no es válido.")) from exc
    if isinstance(parsed, int | float) and not isinstance(parsed, bool):
        if parsed < 0:
            raise ValueError("Debe ser un número positivo.")
        low, high = definition.minimum, definition.maximum
        if (low is not None and parsed < low) or (high is not None and parsed > high):
            raise ValueError(f"Debe estar entre {_num(low)} y {_num(high)}.")
    return parsed


def _num(value: float | None) -> str:
    if value is None:
        return "∞"
    return f"{int(value):,}".replace(",", ".") if float(value).is_integer() else str(value)


def _optional(annotation: Any) -> bool:
    return "None" in str(annotation)


def _to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def apply_overrides(ctx: AppContext, session: AsyncSession | None = None) -> None:
    """Swap in a new Settings object with the stored overrides applied.

    The object a request or a job step already holds is never changed in place (that raced
    with readers): the context gets a fresh copy, so each reader sees one consistent snapshot.
    """
    base = _base(ctx)
    if session is None:
        async with ctx.db.sessionmaker() as own:
            rows = list(await own.scalars(select(SystemConfig)))
    else:
        rows = list(await session.scalars(select(SystemConfig)))
    stored = {r.key: r for r in rows}
    updates: dict[str, Any] = {}
    for definition in _available(ctx):
        row = stored.get(definition.key)
        if row is None:
            updates[definition.key] = base[definition.key]
            continue
        try:
            raw = ctx.secret_box.decrypt(row.value) if row.is_secret and row.value else row.value
            updates[definition.key] = parse(definition, raw or "")
        except ValueError:
            log.warning("ignoring unreadable stored setting", extra={"key": definition.key})
    ctx.settings = ctx.settings.model_copy(update=updates)


@dataclass
class SettingView:
    key: str
    label: str
    description: str
    category: str
    value: str | None
    is_secret: bool
    source: str
    editable: bool
    type: str
    minimum: float | None = None
    maximum: float | None = None


def _view(ctx: AppContext, definition: SettingDef, stored: bool) -> SettingView:
    base = _base(ctx)
    current = getattr(ctx.settings, definition.key)
    text = _to_text(current)
    source = (
        "database"
        if stored
        else ("environment" if definition.key in base["__set__"] else "default")
    )
    return SettingView(
        key=definition.key,
        label=definition.label,
        description=definition.description,
        category=definition.category,
        value=mask_secret(text) if definition.is_secret else text,
        is_secret=definition.is_secret,
        source=source,
        editable=True,
        type=definition.kind,
        minimum=definition.minimum,
        maximum=definition.maximum,
    )


async def list_grouped(session: AsyncSession, ctx: AppContext) -> list[dict[str, Any]]:
    await apply_overrides(ctx, session)
    stored = set(await session.scalars(select(SystemConfig.key)))
    groups: dict[str, list[SettingView]] = {}
    for definition in _available(ctx):
        groups.setdefault(definition.category, []).append(
            _view(ctx, definition, definition.key in stored)
        )
    return [
        {"category": c, "label": CATEGORY_LABELS.get(c, c), "settings": items}
        for c, items in groups.items()
    ]


def definition_for(key: str) -> SettingDef:
    definition = BY_KEY.get(key)
    if definition is None or key not in Settings.model_fields:
        raise NotFound(
            f"El ajuste «{key}» no existe o no se puede modificar.", code="SETTING_NOT_FOUND"
        )
    return definition


async def update(
    session: AsyncSession, ctx: AppContext, key: str, raw: str | None, user_id: int | None
) -> SettingView:
    """Store a new value (None reverts to the environment's); returns the masked view."""
    definition = definition_for(key)
    row = await session.get(SystemConfig, key)
    if raw is None:
        if row is not None:
            await session.delete(row)
    else:
        try:
            value = parse(definition, raw)
        except ValueError as exc:
            raise ValidationFailed(
                f"{definition.label}: {exc}",
                fields=[FieldError(field="value", label=definition.label, message=str(exc))],
            ) from exc
        text = _to_text(value)
        stored = ctx.secret_box.encrypt(text) if definition.is_secret and text else text
        if row is None:
            row = SystemConfig(
                key=key, category=definition.category, is_secret=definition.is_secret
            )
            session.add(row)
        row.value, row.updated_by, row.is_secret = stored, user_id, definition.is_secret
    await session.flush()
    await apply_overrides(ctx, session)
    return _view(ctx, definition, raw is not None)


async def restore_default(session: AsyncSession, ctx: AppContext, key: str) -> SettingView:
    """Remove the stored override: the environment's (or built-in) value applies again."""
    return await update(session, ctx, key, None, None)


async def rotate_secrets(session: AsyncSession, old: SecretBox, new: SecretBox) -> int:
    """Re-encrypt every secret at rest with `new`; returns how many values were rewritten."""

    return await rotate_all(session, old, new)
