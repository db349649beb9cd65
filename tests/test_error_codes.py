"""Every error code src/ can answer with is a member of the published ErrorCode enum."""

from __future__ import annotations

import re
from pathlib import Path

from erp_core.error_codes import ErrorCode
from erp_core.main import create_app

SRC = Path(__file__).resolve().parents[1] / "src" / "erp_core"
LITERAL = re.compile(r"""(?:\bcode\s*=\s*|\("|^\s*)"([A-Z][A-Z_]{2,})"(?=[,)\s])""", re.M)


def test_every_raised_code_is_in_the_enum() -> None:
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        if "lab" in path.parts or path.name == "error_codes.py":
            continue
        text = path.read_text()
        used |= set(re.findall(r"""\bcode\s*=\s*"([A-Z][A-Z_]{2,})\"""", text))
        used |= set(
            re.findall(r"""\(\s*"([A-Z][A-Z_]{2,}_[A-Z_]+|[A-Z]{4,})",\s*"[^"]*[a-zá-ú]""", text)
        )
    used |= {f"{kind}_NOT_FOUND" for kind in ("NODE", "CONTAINER")}  # infrastructure/routes
    missing = sorted(used - {c.value for c in ErrorCode})
    assert missing == [], f"add to erp_core/error_codes.py: {missing}"
    assert {"TENANT_BUSY", "VALIDATION_ERROR", "INTERNAL_ERROR"} <= used


def test_openapi_publishes_the_enum() -> None:
    schema = create_app().openapi()["components"]["schemas"]
    assert schema["ErrorEnvelope"]["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorCode"
    }
    assert set(schema["ErrorCode"]["enum"]) == {c.value for c in ErrorCode}
