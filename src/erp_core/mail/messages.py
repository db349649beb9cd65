"""The customer e-mails, in Spanish, as text and HTML on the brand's dark palette.

Each message is rendered from plain parameters. None of them carries a password or a token,
except the one-time verification/reset link (whose token is stored only hashed).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal

MailKind = Literal[
    "verification",
    "password_reset",
    "welcome",
    "payment_failed",
    "suspended",
    "reactivated",
    "cancellation",
    "plan_changed",
]
KINDS: tuple[str, ...] = (
    "verification",
    "password_reset",
    "welcome",
    "payment_failed",
    "suspended",
    "reactivated",
    "cancellation",
    "plan_changed",
)
# The seed's palette: dark background, panel, text, accent.
BG, PANEL, TEXT, MUTED, ACCENT = "#00172C", "#00203F", "#FFFFFF", "#6C757D", "#00FF9F"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _p(params: dict[str, str], key: str) -> str:
    return params.get(key, "")


def _content(kind: str, params: dict[str, str]) -> tuple[str, list[str], tuple[str, str] | None]:
    """Subject, paragraphs and an optional (label, url) button for `kind`."""
    company = _p(params, "company")
    url = _p(params, "url")
    if kind == "verification":
        return (
            "Confirme su correo electrónico",
            [
                f"Hola, {company}:",
                "Gracias por registrarse en Jeturing. Confirme su correo electrónico para "
                "continuar con el pago y crear su Odoo.",
                "El enlace caduca en 48 horas. Si usted no se registró, ignore este mensaje.",
            ],
            ("Confirmar correo electrónico", _p(params, "link")),
        )
    if kind == "password_reset":
        return (
            "Restablecer su contraseña",
            [
                "Hemos recibido una solicitud para restablecer la contraseña de su cuenta.",
                "El enlace caduca en 60 minutos y solo puede usarse una vez. Si usted no lo "
                "pidió, ignore este mensaje: su contraseña no cambia.",
            ],
            ("Restablecer contraseña", _p(params, "link")),
        )
    if kind == "welcome":
        return (
            "Tu Odoo está listo",
            [
                f"Hola, {company}:",
                f"Su Odoo ya está disponible en {url}.",
                f"Usuario administrador: {_p(params, 'admin_login')}. La contraseña se muestra "
                "una sola vez en el portal; no se envía por correo.",
            ],
            ("Abrir mi Odoo", url),
        )
    if kind == "payment_failed":
        return (
            "No hemos podido cobrar su factura",
            [
                f"Hola, {company}:",
                f"El pago de la factura {_p(params, 'invoice')} de {_p(params, 'subdomain')} "
                "ha fallado. Actualice su método de pago en el portal para evitar la suspensión.",
            ],
            ("Ver mis facturas", _p(params, "portal_url")),
        )
    if kind == "suspended":
        return (
            "Su instancia ha sido suspendida",
            [
                f"Hola, {company}:",
                f"La instancia {url} está suspendida. Sus datos se conservan; regularice el "
                "pago desde el portal para reactivarla.",
            ],
            ("Ir al portal", _p(params, "portal_url")),
        )
    if kind == "reactivated":
        return (
            "Su instancia vuelve a estar activa",
            [f"Hola, {company}:", f"La instancia {url} está de nuevo activa. Gracias."],
            ("Abrir mi Odoo", url),
        )
    if kind == "cancellation":
        return (
            "Cancelación programada",
            [
                f"Hola, {company}:",
                f"La suscripción de {url} se cancelará al final del periodo "
                f"({_p(params, 'period_end')}). Después la instancia se suspenderá y, pasados "
                f"{_p(params, 'retention_days')} días, se hará un respaldo final y se eliminará.",
            ],
            ("Ir al portal", _p(params, "portal_url")),
        )
    if kind == "plan_changed":
        return (
            "Su plan ha cambiado",
            [
                f"Hola, {company}:",
                f"La instancia {url} pasa al plan {_p(params, 'plan')}. {_p(params, 'notice')}",
            ],
            ("Ir al portal", _p(params, "portal_url")),
        )
    raise ValueError(f"unknown mail kind {kind!r}")


def render(kind: str, params: dict[str, str]) -> Rendered:
    subject, paragraphs, button = _content(kind, params)
    text_parts = [*paragraphs]
    if button and button[1]:
        text_parts.append(f"{button[0]}: {button[1]}")
    text_parts.append("— Jeturing")
    body = "\n\n".join(text_parts) + "\n"
    html_paragraphs = "".join(
        f'<p style="margin:0 0 16px;color:{TEXT};font-size:15px;line-height:1.5">'
        f"{html.escape(p)}</p>"
        for p in paragraphs
    )
    html_button = ""
    if button and button[1]:
        html_button = (
            f'<p style="margin:24px 0"><a href="{html.escape(button[1], quote=True)}" '
            f'style="background:{ACCENT};color:{BG};padding:12px 20px;border-radius:6px;'
            f'text-decoration:none;font-weight:600">{html.escape(button[0])}</a></p>'
        )
    document = (
        '<!doctype html><html lang="es"><body style="margin:0;padding:24px;'
        f'background:{BG};font-family:Inter,Arial,sans-serif">'
        f'<div style="max-width:560px;margin:0 auto;background:{PANEL};padding:32px;'
        'border-radius:8px">'
        f'<p style="margin:0 0 24px;color:{ACCENT};font-weight:700;font-size:18px">Jeturing</p>'
        f"{html_paragraphs}{html_button}"
        f'<p style="margin:24px 0 0;color:{MUTED};font-size:12px">Jeturing · Odoo alojado</p>'
        "</div></body></html>"
    )
    return Rendered(subject=subject, text=body, html=document)
