"""Hostname checks for custom domains: what the customer types becomes the punycode,
lower-case name Cloudflare and Odoo will see, or a Spanish reason why it cannot."""

from __future__ import annotations

import ipaddress
import re

import idna

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidHostname(ValueError):
    """The hostname cannot be a custom domain; the message is Spanish, for the operator."""


def normalize_hostname(raw: str, base_domain: str) -> str:
    """``raw`` as an ASCII (IDNA/punycode) hostname, or :class:`InvalidHostname`.

    Why so strict: the name goes into Cloudflare's API, into a tunnel ingress rule and
    into Odoo's ``web.base.url``; an IP, a URL, a wildcard or one of our own subdomains
    would either be refused there or hijack routing of another tenant.
    """
    value = raw.strip().rstrip(".").lower()
    if not value:
        raise InvalidHostname("Indique el nombre del dominio, por ejemplo erp.cliente.com.")
    if "://" in value or "/" in value or "@" in value or " " in value:
        raise InvalidHostname(
            "Indique solo el nombre del dominio (por ejemplo erp.cliente.com), sin «https://», "
            "rutas ni espacios."
        )
    candidate = value.strip("[]")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        pass
    else:
        raise InvalidHostname("Use un nombre de dominio, no una dirección IP.")
    if ":" in value:
        raise InvalidHostname("El dominio no puede llevar puerto.")
    if "*" in value:
        raise InvalidHostname("No se admiten dominios comodín (*).")
    try:
        ascii_name = idna.encode(value, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise InvalidHostname(f"«{raw.strip()}» no es un nombre de dominio válido.") from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        raise InvalidHostname(
            f"«{raw.strip()}» no es un nombre de dominio válido (ejemplo: erp.cliente.com)."
        )
    if labels[-1].isdigit():
        raise InvalidHostname("Use un nombre de dominio, no una dirección IP.")
    base = base_domain.lower().rstrip(".")
    if ascii_name == base or ascii_name.endswith("." + base):
        raise InvalidHostname(
            f"Los dominios de {base} ya los gestiona la plataforma; un dominio personalizado "
            "debe ser del cliente."
        )
    return ascii_name
