"""Validation errors speak Spanish and name fields by label, for every request body the API has.

The test walks the OpenAPI document: for each JSON request body it sends an empty object and,
per property, a value of the wrong kind and one beyond its bound (too long, too small, not an
e-mail). Whatever the route answers with 422 must carry labels and Spanish messages only:
no wire names (`company_name`), no pydantic/email-validator English.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from erp_core.labels import FIELD_LABELS, GENERIC_LABEL

ENGLISH = {
    "value",
    "field",
    "required",
    "must",
    "should",
    "valid",
    "invalid",
    "is",
    "not",
    "the",
    "string",
    "characters",
    "character",
    "input",
    "missing",
    "email",
    "address",
    "least",
    "most",
    "greater",
    "less",
    "than",
    "error",
    "expected",
    "an",
    "at",
    "of",
}
SNAKE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
WORD = re.compile(r"[A-Za-zÁÉÍÓÚÑáéíóúñü]+")


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return _resolve(doc, options[0])
    return schema


def _bad_values(prop: dict[str, Any]) -> list[Any]:
    """Values that break the property's type or bounds."""
    kind = prop.get("type")
    values: list[Any] = []
    if kind == "string":
        values.append({"no": "texto"})
        if "maxLength" in prop:
            values.append("x" * (prop["maxLength"] + 1))
        if prop.get("format") == "email":
            values.append("no-es-correo")
        if prop.get("enum"):
            values.append("zzz-no-existe")
    elif kind in ("integer", "number"):
        values.append("abc")
        if "minimum" in prop:
            values.append(prop["minimum"] - 1)
        if "exclusiveMinimum" in prop:
            values.append(prop["exclusiveMinimum"])
        if "maximum" in prop:
            values.append(prop["maximum"] + 1)
    elif kind == "boolean":
        values.append("quizás")
    elif kind == "array":
        values.append("no-es-lista")
    return values


def _bodies(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in operations.items():
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if not body:
                continue
            schema = _resolve(doc, body["schema"])
            url = re.sub(r"\{[^}]+\}", "1", path)
            if schema.get("type") == "object" and schema.get("properties"):
                cases.append((method, url, {}))
                for name, raw in schema["properties"].items():
                    for bad in _bad_values(_resolve(doc, raw)):
                        cases.append((method, url, {name: bad}))
    return cases


def _check_spanish(text: str, where: str) -> None:
    assert not SNAKE.search(text), f"raw identifier in {where}: {text!r}"
    english = {w for w in WORD.findall(text.lower()) if w in ENGLISH}
    assert not english, f"English words {english} in {where}: {text!r}"


async def test_every_request_body_validates_in_spanish_with_labels(
    client: httpx.AsyncClient, admin: dict[str, Any]
) -> None:
    doc = (await client.get("/api/openapi.json")).json()
    cases = _bodies(doc)
    assert len(cases) > 50, "the walk found too few request bodies"
    checked = 0
    for method, url, payload in cases:
        resp = await client.request(method, url, json=payload, headers=admin["headers"])
        if resp.status_code != 422:
            continue
        checked += 1
        body = resp.json()
        where = f"{method.upper()} {url} {payload!r}"
        _check_spanish(body["detail"], f"detail of {where}")
        for field in body.get("fields", []):
            assert field["label"] and field["label"] != GENERIC_LABEL, (
                f"{field['field']} has no Spanish label ({where}); add it to erp_core.labels"
            )
            assert field["label"] != field["field"] or field["field"] in ("plan",)
            _check_spanish(field["label"], f"label of {where}")
            _check_spanish(field["message"], f"message of {where}")
            raw = field["field"].split(".")[-1]
            if "_" in raw:
                assert raw not in body["detail"], f"raw name in detail of {where}"
    assert checked > 30, f"only {checked} invalid bodies were answered with 422"


async def test_every_parameter_and_property_has_a_label(client: httpx.AsyncClient) -> None:
    """A new field added without a label fails here, before an operator sees `un campo`."""
    doc = (await client.get("/api/openapi.json")).json()
    missing: set[str] = set()
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for op in operations.values():
            for param in op.get("parameters", []):
                if param["name"] not in FIELD_LABELS:
                    missing.add(param["name"])
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if body:
                schema = _resolve(doc, body["schema"])
                missing.update(p for p in schema.get("properties", {}) if p not in FIELD_LABELS)
    assert not missing, f"fields without a Spanish label in erp_core.labels: {sorted(missing)}"


async def test_known_messages(client: httpx.AsyncClient, admin: dict[str, Any]) -> None:
    """The sentences an operator actually reads on the user form."""
    resp = await client.post(
        "/api/users",
        json={"email": "sin-arroba.com", "role": "jefe", "name": "n" * 200},
        headers=admin["headers"],
    )
    assert resp.status_code == 422
    fields = {f["field"]: f for f in resp.json()["fields"]}
    assert fields["email"]["label"] == "Correo electrónico"
    assert fields["email"]["message"].startswith("No es una dirección de correo electrónico")
    assert fields["role"]["message"] == "El valor no es una de las opciones permitidas."
    assert fields["name"]["message"] == "El texto es demasiado largo (máximo 120 caracteres)."
    assert resp.json()["detail"] == "Revise estos campos: Correo electrónico, Nombre, Rol."
    resp = await client.get("/api/users?per_page=1000", headers=admin["headers"])
    assert resp.json()["detail"] == "Elementos por página: Debe ser como máximo 200."
