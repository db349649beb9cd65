"""Every request CloudflareManager sends, and every answer the emulator gives, checked
against Cloudflare's own OpenAPI description (read from VENDOR_SPECS_DIR, never copied).

The scenario drives each public method of the driver against the emulator, which logs
requests and responses; each logged call must match a documented path template and
method, use only documented query parameters and body fields (with their types), and
the emulator's successful answers must have the documented envelope and record shapes.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import shared_parts
from erp_core.drivers.base import IngressRule
from erp_core.drivers.cloudflare import CloudflareManager
from erp_core.lab import LabStack
from erp_core.lab.cloudflare import API_PREFIX, LoggedRequest

REPO_ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.needs_shared("vendor")
# Vendor facts from NOTES.md that the 2024-08 schema leaves out: lists paginate with
# result_info.total_pages, and every answer (even DELETE's) carries the v4 envelope.
ALLOWED_UNDOCUMENTED = {
    "result_info": {"total_pages"},
    "response": {"success", "errors", "messages"},
}


@cache
def _spec() -> dict[str, Any]:
    base = shared_parts.part_path("vendor")
    path = base / "cloudflare" / "openapi.json"
    if not path.is_file():
        shared_parts.missing("vendor", path)
    return dict(json.loads(path.read_text()))


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = _spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _variants(schema: Any, value: Any) -> list[dict[str, Any]]:
    """Flatten allOf into one schema; for oneOf/anyOf keep the variants whose ``type``
    enum admits the value's ``type`` (how Cloudflare discriminates DNS records)."""
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return []
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k not in ("allOf", "oneOf")}
    merged.setdefault("properties", {})
    merged["properties"] = dict(merged["properties"])
    merged["required"] = list(merged.get("required", []))
    for part in schema.get("allOf", []):
        for flat in _variants(part, value):
            merged["properties"].update(flat.get("properties", {}))
            merged["required"] += flat.get("required", [])
            merged.setdefault("type", flat.get("type"))
    choices = schema.get("oneOf") or schema.get("anyOf")
    if not choices:
        return [merged]
    results = []
    for choice in choices:
        for flat in _variants(choice, value):
            enum = _resolve(flat.get("properties", {}).get("type", {})).get("enum")
            if isinstance(value, dict) and enum and value.get("type") not in enum:
                continue
            combined = {**merged, **flat}
            combined["properties"] = {**merged["properties"], **flat.get("properties", {})}
            combined["required"] = merged["required"] + flat.get("required", [])
            results.append(combined)
    return results


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _check(value: Any, schema: Any, where: str, *, required: bool = True) -> list[str]:
    """Problems of ``value`` against ``schema``: unknown fields, wrong types, and (at the
    levels asked) missing required fields."""
    if value is None:
        return []
    variants = _variants(schema, value)
    if not variants:
        return []
    best: list[str] | None = None
    for variant in variants:
        problems: list[str] = []
        kind = variant.get("type")
        if kind in _JSON_TYPES and not isinstance(value, _JSON_TYPES[kind]):
            problems.append(f"{where}: expected {kind}, got {type(value).__name__}")
        elif kind in ("number", "integer") and isinstance(value, bool):
            problems.append(f"{where}: expected {kind}, got bool")
        if "enum" in variant and value not in variant["enum"] and variant["enum"] != [None]:
            problems.append(f"{where}: {value!r} not in {variant['enum']}")
        if isinstance(value, dict) and variant.get("properties"):
            known = variant["properties"]
            extra = set(value) - set(known) - ALLOWED_UNDOCUMENTED.get(where.split(".")[-1], set())
            problems += [f"{where}.{key}: not in the vendor schema" for key in sorted(extra)]
            if required:
                writable = {
                    key
                    for key in variant.get("required", [])
                    if not _resolve(known.get(key, {})).get("readOnly")
                }
                missing = writable - set(value)
                problems += [f"{where}.{key}: required but missing" for key in sorted(missing)]
            for key, item in value.items():
                if key in known:
                    problems += _check(item, known[key], f"{where}.{key}", required=False)
        if isinstance(value, list) and "items" in variant:
            for index, item in enumerate(value[:5]):
                problems += _check(item, variant["items"], f"{where}[{index}]", required=False)
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or []


@cache
def _path_patterns() -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$"), t)
        for t in _spec()["paths"]
    ]


def _template_for(path: str) -> str | None:
    """The most specific documented path template matching ``path``."""
    matches = [template for pattern, template in _path_patterns() if pattern.match(path)]
    return max(matches, key=lambda t: len(re.sub(r"\{[^}]+\}", "", t)), default=None)


def _query_value_ok(raw: str, schema: Any) -> bool:
    schema = _resolve(schema) or {}
    kind = schema.get("type")
    if "enum" in schema and raw not in [str(v) for v in schema["enum"]]:
        return False
    if kind == "number":
        return re.fullmatch(r"-?\d+(\.\d+)?", raw) is not None
    if kind == "boolean":
        return raw in ("true", "false")
    return True


def check_request(entry: LoggedRequest) -> list[str]:
    path = entry.path.removeprefix(API_PREFIX)
    template = _template_for(path)
    if template is None:
        return [f"{entry.method} {path}: no documented path"]
    path_item = _spec()["paths"][template]
    operation = path_item.get(entry.method.lower())
    if operation is None:
        return [f"{entry.method} {template}: method not documented"]
    label = f"{entry.method} {template}"
    parameters = [
        _resolve(p) for p in [*path_item.get("parameters", []), *operation.get("parameters", [])]
    ]
    query = {p["name"]: p.get("schema", {}) for p in parameters if p.get("in") == "query"}
    problems = []
    for name, raw in entry.query:
        if name not in query:
            problems.append(f"{label}: query parameter {name!r} not documented")
        elif not _query_value_ok(raw, query[name]):
            problems.append(f"{label}: query {name}={raw!r} does not fit its schema")
    if entry.body is not None:
        body_schema = (
            operation.get("requestBody", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema")
        )
        if body_schema is None:
            problems.append(f"{label}: sends a body the vendor does not document")
        else:
            # DNS requests and answers share one schema whose ``required`` lists the
            # server-assigned ``id``; a client cannot send it, so it is not asked for.
            problems += [
                f"{label}: {p}"
                for p in _check(entry.body, body_schema, "body")
                if p != "body.id: required but missing"
            ]
    if entry.status == 200:
        response = operation.get("responses", {}).get("200", {})
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is not None:
            problems += [f"{label} answer: {p}" for p in _check(entry.response, schema, "response")]
    return problems


async def _exercise_every_method(cloudflare: CloudflareManager, lab: LabStack) -> None:
    main, spare = lab.tunnel_ids
    await cloudflare.list_tunnels()
    await cloudflare.ensure_route(main, "acme.sajet.us", lab.odoo.url)
    await cloudflare.ensure_route(main, "acme.sajet.us", "http://10.1.1.1:8069")
    await cloudflare.get_ingress(main)
    await cloudflare.put_ingress(spare, [IngressRule("x.sajet.us", "http://10.0.0.2:8069")])
    await cloudflare.remove_route(main, "acme.sajet.us")
    await cloudflare.ensure_cname("acme.sajet.us", main)
    await cloudflare.ensure_cname("acme.sajet.us", spare)  # update path
    lab.cloudflare_state.add_dns_record("race.sajet.us", f"{main}.cfargotunnel.com")
    lab.faults.set("cf.list_dns.stale", fail_times=1)
    await cloudflare.ensure_cname("race.sajet.us", main)  # 81053 path
    await cloudflare.find_cname("acme.sajet.us")
    await cloudflare.list_cnames()
    await cloudflare.remove_cname("acme.sajet.us")
    await cloudflare.remove_cname("acme.sajet.us")


async def test_driver_requests_and_emulator_answers_match_the_spec(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    _spec()
    await _exercise_every_method(cloudflare, lab)
    log = list(lab.cloudflare_state.request_log)
    used = {(e.method, _template_for(e.path.removeprefix(API_PREFIX))) for e in log}
    assert {
        ("GET", "/accounts/{account_id}/cfd_tunnel"),
        ("GET", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}/configurations"),
        ("PUT", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}/configurations"),
        ("GET", "/zones/{zone_id}/dns_records"),
        ("POST", "/zones/{zone_id}/dns_records"),
        ("PUT", "/zones/{zone_id}/dns_records/{dns_record_id}"),
        ("DELETE", "/zones/{zone_id}/dns_records/{dns_record_id}"),
    } <= used
    problems = [problem for entry in log for problem in check_request(entry)]
    assert problems == []


async def _exercise_custom_hostnames(cloudflare: CloudflareManager, lab: LabStack) -> None:
    """Every custom hostname / fallback origin method, including the races and the
    404 paths, so each request shape and emulator answer is checked."""
    created = await cloudflare.create_custom_hostname("erp.cliente.com", ssl_method="txt")
    await cloudflare.create_custom_hostname("shop.cliente.com", ssl_method="http")
    await cloudflare.ensure_custom_hostname("erp.cliente.com", origin="acme.sajet.us")
    await cloudflare.ensure_custom_hostname("new.cliente.com", ssl_method="txt")
    await cloudflare.get_custom_hostname(created.id)
    await cloudflare.find_custom_hostname("erp.cliente.com")
    await cloudflare.list_custom_hostnames()
    await cloudflare.get_fallback_origin()
    await cloudflare.set_fallback_origin("acme.sajet.us")
    await cloudflare.get_fallback_origin()
    lab.cloudflare_state.publish("erp.cliente.com")
    await cloudflare.get_custom_hostname(created.id)
    await cloudflare.delete_custom_hostname(created.id)
    await cloudflare.delete_custom_hostname(created.id)  # 404 path
    await cloudflare.get_custom_hostname(created.id)  # 404 path


async def test_custom_hostname_requests_and_answers_match_the_spec(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    _spec()
    await _exercise_custom_hostnames(cloudflare, lab)
    log = list(lab.cloudflare_state.request_log)
    used = {(e.method, _template_for(e.path.removeprefix(API_PREFIX))) for e in log}
    assert {
        ("GET", "/zones/{zone_id}/custom_hostnames"),
        ("POST", "/zones/{zone_id}/custom_hostnames"),
        ("GET", "/zones/{zone_id}/custom_hostnames/{custom_hostname_id}"),
        ("PATCH", "/zones/{zone_id}/custom_hostnames/{custom_hostname_id}"),
        ("DELETE", "/zones/{zone_id}/custom_hostnames/{custom_hostname_id}"),
        ("GET", "/zones/{zone_id}/custom_hostnames/fallback_origin"),
        ("PUT", "/zones/{zone_id}/custom_hostnames/fallback_origin"),
    } <= used
    creates = [e.body for e in log if e.method == "POST" and e.path.endswith("/custom_hostnames")]
    assert creates[0] == {"hostname": "erp.cliente.com", "ssl": {"method": "txt", "type": "dv"}}
    assert creates[1]["ssl"] == {"method": "http", "type": "dv"}
    patches = [e.body for e in log if e.method == "PATCH"]
    assert patches == [{"custom_origin_server": "acme.sajet.us"}]
    problems = [problem for entry in log for problem in check_request(entry)]
    assert problems == []


async def test_custom_hostname_listing_honours_total_pages(
    cloudflare: CloudflareManager, lab: LabStack
) -> None:
    """12 hostnames at 5 per page: three requests, every hostname once, no extra page."""
    for index in range(12):
        await cloudflare.create_custom_hostname(f"h{index:02d}.cliente.com")
    lab.cloudflare_state.request_log.clear()
    cloudflare.page_size = 5
    names = sorted(h.hostname for h in await cloudflare.list_custom_hostnames())
    assert names == [f"h{index:02d}.cliente.com" for index in range(12)]
    pages = [dict(e.query) for e in lab.cloudflare_state.request_log]
    assert [p["page"] for p in pages] == ["1", "2", "3"]
    assert {p["per_page"] for p in pages} == {"5"}
    assert cloudflare.page_size == 5


def test_the_checker_catches_undocumented_requests(lab: LabStack) -> None:
    """The contract check must be able to fail."""
    _spec()
    zone = lab.cloudflare_state.zone_id
    bad_query = LoggedRequest(
        "GET", f"{API_PREFIX}/zones/{zone}/dns_records", (("nmae", "x"),), None
    )
    bad_body = LoggedRequest(
        "POST",
        f"{API_PREFIX}/zones/{zone}/dns_records",
        (),
        {"type": "CNAME", "name": "a", "content": "b", "proxy": True, "ttl": "1"},
    )
    bad_path = LoggedRequest("GET", f"{API_PREFIX}/zones/{zone}/dns_recs", (), None)
    assert any("'nmae'" in p for p in check_request(bad_query))
    body_problems = check_request(bad_body)
    assert any("body.proxy" in p for p in body_problems)
    assert any("body.ttl" in p for p in body_problems)
    assert check_request(bad_path) == [f"GET /zones/{zone}/dns_recs: no documented path"]
