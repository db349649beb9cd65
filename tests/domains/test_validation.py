"""What an operator may type as a custom domain, and what Cloudflare is sent."""

from __future__ import annotations

import pytest

from erp_core.domains.service import state_of
from erp_core.domains.validation import InvalidHostname, normalize_hostname
from erp_core.drivers.base import CustomHostname


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ERP.Cliente.com", "erp.cliente.com"),
        ("  erp.cliente.com. ", "erp.cliente.com"),
        ("erp.compañía.es", "erp.xn--compaa-7va5a.es"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("tienda.例え.jp", "tienda.xn--r8jz45g.jp"),
    ],
)
def test_valid_hostnames_become_lower_case_punycode(raw: str, expected: str) -> None:
    assert normalize_hostname(raw, "sajet.us") == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "Indique el nombre"),
        ("https://erp.cliente.com", "sin «https://»"),
        ("erp.cliente.com/web", "sin «https://»"),
        ("203.0.113.7", "no una dirección IP"),
        ("[2001:db8::1]", "no una dirección IP"),
        ("1.2.3.4.5", "no una dirección IP"),
        ("erp.cliente.com:8069", "puerto"),
        ("*.cliente.com", "comodín"),
        ("localhost", "no es un nombre de dominio válido"),
        ("-erp.cliente.com", "no es un nombre de dominio válido"),
        ("erp..cliente.com", "no es un nombre de dominio válido"),
        ("acme.sajet.us", "ya los gestiona la plataforma"),
        ("SAJET.US", "ya los gestiona la plataforma"),
    ],
)
def test_rejected_hostnames_say_why_in_spanish(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidHostname) as caught:
        normalize_hostname(raw, "sajet.us")
    assert fragment in str(caught.value)


def _hostname(status: str, ssl_status: str, *errors: str) -> CustomHostname:
    return CustomHostname("id", "erp.cliente.com", status, ssl_status, "txt", errors=errors)


def test_state_follows_cloudflare() -> None:
    assert state_of(_hostname("pending", "pending_validation")) == ("pending_dns", None)
    assert state_of(_hostname("active", "pending_validation")) == ("pending_ssl", None)
    assert state_of(_hostname("active", "pending_issuance")) == ("pending_ssl", None)
    assert state_of(_hostname("active", "active")) == ("active", None)
    status, reason = state_of(_hostname("active", "validation_timed_out", "DCV timed out"))
    assert status == "failed" and reason and "DCV timed out" in reason
    status, reason = state_of(_hostname("blocked", "pending_validation"))
    assert status == "failed" and reason and "blocked" in reason
