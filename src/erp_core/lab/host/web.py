"""The HTTP face of the host-mode lab: Odoo's login page for databases the stand-ins hold.

A host-mode server still serves tenants over HTTP (the tunnel routes to its URL, and the
provisioning engine checks ``/web/login`` with the tenant's Host). This app answers like
Odoo with ``dbfilter = ^%d$``: the first label of the Host picks the database in the
stand-ins' state directory; a missing database is a 404.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from erp_core.lab.host.standins import State


def _database(request: Request) -> str:
    host = (request.headers.get("x-forwarded-host") or request.headers.get("host") or "").lower()
    host = host.split(":", 1)[0].removeprefix("www.")
    return host.split(".", 1)[0]


def create_host_web(state_dir: Path) -> Starlette:
    state = State(state_dir)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "pass"})

    async def login(request: Request) -> Response:
        name = _database(request)
        if not name or not state.exists(name):
            return PlainTextResponse("Database not found", 404)
        company = html.escape(str(state.read(name).get("company_name", "")))
        page = (
            "<!DOCTYPE html><html><head>"
            f"<title>Odoo | {company}</title>"
            '<meta name="generator" content="Odoo"/></head><body>'
            f'<div class="oe_login_form_container"><h1>{company}</h1>'
            '<form class="oe_login_form" role="form" action="/web/login" method="post">'
            f'<input type="hidden" name="db" value="{html.escape(name)}"/>'
            '<input type="text" name="login" id="login" required="required"/>'
            '<input type="password" name="password" id="password" required="required"/>'
            '<button type="submit" class="btn btn-primary">Log in</button>'
            "</form></div></body></html>"
        )
        return HTMLResponse(page)

    return Starlette(
        routes=[Route("/web/health", health), Route("/web/login", login, methods=["GET"])]
    )
