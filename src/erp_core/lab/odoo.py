"""A stateful Odoo 17-style server emulator for driver tests and ``serve --lab``.

It answers the routes the control plane uses (``/jsonrpc`` db/common/object services, the
``/web/database/backup|restore`` form routes, ``/web/login`` chosen by Host like
``dbfilter = ^%d$``, health and version) with Odoo's shapes: JSON-RPC errors are HTTP 200
with ``error.data.name`` set to the exception class, web-route errors are HTML pages.
Backups are real zips (``dump.sql``, ``filestore/``, ``manifest.json``) generated from the
emulated state and restores parse them back, so a round trip proves the driver streams.
"""

from __future__ import annotations

import asyncio
import base64
import html
import io
import secrets
import tempfile
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from erp_core.lab.faults import FaultPlan, InjectedFailure, lab_control_routes
from erp_core.lab.odoo_state import (
    LANGUAGES,
    LabDatabase,
    OdooFault,
    OdooLabState,
    database_from_zip,
    dump_sql,
    write_backup_zip,
)

__all__ = [
    "LabDatabase",
    "OdooFault",
    "OdooLabState",
    "create_odoo_lab",
    "database_from_zip",
    "dump_sql",
    "write_backup_zip",
]

_CHUNK = 64 * 1024
_MASTER_METHODS = {
    "create_database",
    "duplicate_database",
    "drop",
    "dump",
    "restore",
    "rename",
    "change_admin_password",
}


def _truthy(value: object) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


def _rpc_result(req_id: Any, result: Any) -> JSONResponse:
    return JSONResponse({"jsonrpc": "2.0", "id": req_id, "result": result})


def _rpc_error(req_id: Any, name: str, message: str) -> JSONResponse:
    """Odoo's JSON-RPC error envelope (HTTP 200, the class name in ``data.name``)."""
    data = {
        "name": name,
        "debug": f"Traceback (most recent call last):\n{name}: {message}\n",
        "message": message,
        "arguments": [message],
        "context": {},
    }
    error = {"code": 200, "message": "Odoo Server Error", "data": data}
    return JSONResponse({"jsonrpc": "2.0", "id": req_id, "error": error})


def _failure_response(failure: InjectedFailure, req_id: Any) -> Response:
    """Render an injected fault: a vendor exception (HTTP 200) or a bare HTTP status
    page, as a reverse proxy in front of a struggling Odoo would return."""
    if failure.error_name:
        return _rpc_error(req_id, failure.error_name, failure.message or "Injected error")
    body = f"<html><body><h1>{failure.status} injected by lab</h1></body></html>"
    return HTMLResponse(body, status_code=failure.status)


def _database_page(error: str) -> HTMLResponse:
    """The database manager page Odoo renders when a backup/restore fails (HTTP 200)."""
    text = html.escape(error)
    page = (
        "<!DOCTYPE html><html><head><title>Odoo</title></head><body>"
        f'<div class="alert alert-danger">{text}</div></body></html>'
    )
    return HTMLResponse(page)


def _login_page(db: LabDatabase) -> HTMLResponse:
    company = html.escape(db.company_name)
    page = (
        "<!DOCTYPE html><html><head>"
        f"<title>Odoo | {company}</title>"
        '<meta name="generator" content="Odoo"/></head><body>'
        f'<div class="oe_login_form_container"><h1>{company}</h1>'
        '<form class="oe_login_form" role="form" action="/web/login" method="post">'
        '<input type="hidden" name="csrf_token" value="lab"/>'
        f'<input type="hidden" name="db" value="{html.escape(db.name)}"/>'
        '<input type="text" name="login" id="login" required="required"/>'
        '<input type="password" name="password" id="password" required="required"/>'
        '<button type="submit" class="btn btn-primary">Log in</button>'
        "</form></div></body></html>"
    )
    return HTMLResponse(page)


class _OdooLab:
    """Route handlers bound to one state and fault plan."""

    def __init__(self, state: OdooLabState, faults: FaultPlan) -> None:
        self.state = state
        self.faults = faults
        self.sessions: dict[str, tuple[str, int, str]] = {}  # sid -> (db, uid, password)

    # --- JSON-RPC -------------------------------------------------------------------
    async def jsonrpc(self, request: Request) -> Response:
        try:
            payload = await request.json()
            params = payload.get("params") or {}
            service, method = str(params["service"]), str(params["method"])
            args = list(params.get("args") or [])
        except (ValueError, KeyError, TypeError, AttributeError):
            return _rpc_error(None, "werkzeug.exceptions.BadRequest", "Invalid JSON-RPC call")
        req_id = payload.get("id")
        failure = await self.faults.apply(f"{service}.{method}")
        if failure is not None:
            return _failure_response(failure, req_id)
        try:
            result = await self._dispatch(service, method, args)
        except OdooFault as fault:
            return _rpc_error(req_id, fault.name, fault.message)
        except (IndexError, TypeError, ValueError) as exc:
            return _rpc_error(req_id, "builtins.TypeError", f"{method}() bad arguments: {exc}")
        return _rpc_result(req_id, result)

    async def _dispatch(self, service: str, method: str, args: list[Any]) -> Any:
        state = self.state
        if service == "db":
            if method in _MASTER_METHODS:
                state.check_super(args[0] if args else "")
                state.check_list_db()
                return await self._db_master(method, args[1:])
            if method == "db_exist":
                return state.db_exist(str(args[0]))
            if method == "list":
                state.check_list_db()
                return state.names()
            if method == "list_lang":
                return [list(pair) for pair in LANGUAGES]
            if method == "server_version":
                return state.version
        elif service == "common":
            if method == "version":
                return state.version_info()
            if method in ("login", "authenticate"):
                return state.login(str(args[0]), str(args[1]), str(args[2]))
        elif service == "object" and method == "execute_kw":
            return state.execute_kw(*args)
        raise OdooFault("werkzeug.exceptions.NotFound", f"Method not found: {service}.{method}")

    async def _db_master(self, method: str, args: list[Any]) -> Any:
        state = self.state
        if method == "create_database":
            name, demo, lang = str(args[0]), bool(args[1]), str(args[2])
            password = str(args[3]) if len(args) > 3 else "admin"
            login = str(args[4]) if len(args) > 4 else "admin"
            country = args[5] if len(args) > 5 else None
            state.reserve(name)
            if state.create_delay_s:
                await asyncio.sleep(state.create_delay_s)
            # Odoo logs initialisation errors and still answers True: a fault on this
            # pseudo-operation leaves a database that exists but cannot be logged into.
            _, init_failure = self.faults.take("db.create_database.init")
            state.create(name, login, password, lang, country, demo, init_failure is None)
            return True
        if method == "duplicate_database":
            neutralize = bool(args[2]) if len(args) > 2 else False
            return state.duplicate(str(args[0]), str(args[1]), neutralize)
        if method == "drop":
            return state.drop(str(args[0]))
        if method == "rename":
            return state.rename(str(args[0]), str(args[1]))
        if method == "change_admin_password":
            state.master_password = str(args[0])
            return True
        if method == "dump":
            with tempfile.TemporaryFile() as handle:
                write_backup_zip(state.get(str(args[0])), handle, state)
                handle.seek(0)
                return base64.b64encode(handle.read()).decode()
        if method == "restore":
            copy = bool(args[2]) if len(args) > 2 else False
            raw = io.BytesIO(base64.b64decode(str(args[1])))
            restored = database_from_zip(raw, str(args[0]), copy, False)
            state.reserve(restored.name)
            state.install(restored)
            return True
        raise OdooFault("werkzeug.exceptions.NotFound", f"Method not found: db.{method}")

    # --- web session (what the driver personalises through) --------------------------
    def _drop_foreign_session(self, request: Request) -> None:
        """Odoo's trap: a request whose session cookie belongs to a database the Host's
        dbfilter does not select logs that session out ("Logged into database …, but
        dbfilter rejects it; logging session out"), whatever the route."""
        sid = request.cookies.get("session_id", "")
        session = self.sessions.get(sid)
        if session is None:
            return
        selected = self.state.database_for_host(self._request_host(request))
        if selected is None or selected.name != session[0]:
            self.sessions.pop(sid, None)

    async def session_authenticate(self, request: Request) -> Response:
        """``/web/session/authenticate``: the database must be the one the Host selects
        (dbfilter), then a password login; the session id comes back as a cookie."""
        try:
            payload = await request.json()
            params = payload.get("params") or {}
            db, login, password = str(params["db"]), str(params["login"]), str(params["password"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return _rpc_error(None, "werkzeug.exceptions.BadRequest", "Invalid JSON-RPC call")
        req_id = payload.get("id")
        self._drop_foreign_session(request)
        failure = await self.faults.apply("web.session_authenticate")
        if failure is not None:
            return _failure_response(failure, req_id)
        selected = self.state.database_for_host(self._request_host(request))
        if selected is None or selected.name != db:
            return _rpc_error(req_id, "odoo.exceptions.AccessError", "Database not found.")
        try:
            uid = self.state.login(db, login, password)
        except OdooFault as fault:
            return _rpc_error(req_id, fault.name, fault.message)
        if not uid:
            return _rpc_error(req_id, "odoo.exceptions.AccessDenied", "Access Denied")
        sid = secrets.token_hex(20)
        self.sessions[sid] = (db, int(uid), password)
        response = _rpc_result(req_id, {"uid": uid, "db": db})
        response.set_cookie("session_id", sid, httponly=True)
        return response

    async def call_kw(self, request: Request) -> Response:
        """``/web/dataset/call_kw``: ``execute_kw`` as the session's user (same faults)."""
        try:
            payload = await request.json()
            params = payload.get("params") or {}
            model, method = str(params["model"]), str(params["method"])
            args, kwargs = list(params.get("args") or []), dict(params.get("kwargs") or {})
        except (ValueError, KeyError, TypeError, AttributeError):
            return _rpc_error(None, "werkzeug.exceptions.BadRequest", "Invalid JSON-RPC call")
        req_id = payload.get("id")
        self._drop_foreign_session(request)
        failure = await self.faults.apply("object.execute_kw")
        if failure is not None:
            return _failure_response(failure, req_id)
        session = self.sessions.get(request.cookies.get("session_id", ""))
        if session is None:
            return _rpc_error(req_id, "odoo.http.SessionExpiredException", "Session expired")
        db, uid, password = session
        try:
            result = self.state.execute_kw(db, uid, password, model, method, args, kwargs)
        except OdooFault as fault:
            return _rpc_error(req_id, fault.name, fault.message)
        except (IndexError, TypeError, ValueError) as exc:
            return _rpc_error(req_id, "builtins.TypeError", f"{method}() bad arguments: {exc}")
        return _rpc_result(req_id, result)

    # --- web routes -----------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        failure = await self.faults.apply("web.health")
        if failure is not None:
            return _failure_response(failure, None)
        return JSONResponse({"status": "pass"})

    async def version_info(self, request: Request) -> Response:
        failure = await self.faults.apply("web.version_info")
        if failure is not None:
            return _failure_response(failure, None)
        try:
            req_id = (await request.json()).get("id")
        except (ValueError, AttributeError):
            req_id = None
        return _rpc_result(req_id, self.state.version_info())

    async def login(self, request: Request) -> Response:
        self._drop_foreign_session(request)
        failure = await self.faults.apply("web.login")
        if failure is not None:
            return _failure_response(failure, None)
        db = self.state.database_for_host(self._request_host(request))
        if db is None:
            # Odoo with no database for this Host sends the visitor to the selector.
            return RedirectResponse("/web/database/selector", status_code=303)
        if not db.initialized:
            return HTMLResponse("<html><body><h1>Internal Server Error</h1></body></html>", 500)
        return _login_page(db)

    def _request_host(self, request: Request) -> str:
        host = request.headers.get("host", "")
        forwarded = request.headers.get("x-forwarded-host")
        return forwarded if self.state.proxy_mode and forwarded else host

    async def backup(self, request: Request) -> Response:
        if not self.state.list_db:
            return _database_page("Database backup error: Access Denied")
        failure = await self.faults.apply("web.backup")
        if failure is not None:
            return _failure_response(failure, None)
        form = await request.form()
        name = str(form.get("name", ""))
        try:
            self.state.check_super(str(form.get("master_pwd", "")))
            # Odoo checks the name against db_list(): filtered by dbfilter and the Host.
            known = self.state.database_for_host(self._request_host(request))
            if known is None or known.name != name:
                raise OdooFault("builtins.Exception", f"Database {name!r} is not known")
            if str(form.get("backup_format", "zip")) != "zip":
                raise OdooFault("builtins.ValueError", "lab only produces zip backups")
            spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
            write_backup_zip(self.state.get(name), spool, self.state)
        except OdooFault as fault:
            return _database_page(f"Database backup error: {fault.message}")
        spool.seek(0)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := spool.read(_CHUNK):
                    yield chunk
            finally:
                spool.close()

        headers = {
            "Content-Disposition": f'attachment; filename="{name}.zip"',
            "Content-Type": "application/octet-stream; charset=binary",
        }
        return StreamingResponse(chunks(), headers=headers)

    async def restore(self, request: Request) -> Response:
        if not self.state.list_db:
            return _database_page("Database restore error: Access Denied")
        failure = await self.faults.apply("web.restore")
        if failure is not None:
            return _failure_response(failure, None)
        form = await request.form()
        upload = form.get("backup_file")
        try:
            self.state.check_super(str(form.get("master_pwd", "")))
            if not isinstance(upload, UploadFile):
                raise OdooFault("builtins.ValueError", "No backup file was sent")
            copy = _truthy(form.get("copy"))
            neutralize = _truthy(form.get("neutralize_database"))
            restored = database_from_zip(upload.file, str(form.get("name", "")), copy, neutralize)
            self.state.reserve(restored.name)
            self.state.install(restored)
        except OdooFault as fault:
            return _database_page(f"Database restore error: {fault.message}")
        finally:
            await form.close()
        return RedirectResponse("/web/database/manager", status_code=303)

    async def lab_config(self, request: Request) -> Response:
        """``POST /_lab/config`` adjusts server-level knobs (list_db, create delay…)."""
        payload = await request.json()
        if "list_db" in payload:
            self.state.list_db = bool(payload["list_db"])
        if "create_delay_s" in payload:
            self.state.create_delay_s = float(payload["create_delay_s"])
        if "proxy_mode" in payload:
            self.state.proxy_mode = bool(payload["proxy_mode"])
        return JSONResponse(self.state.snapshot())


async def _sabotage(request: Request) -> Response:
    """``POST /_lab/sabotage`` changes the server behind the control plane's back (drift
    audit tests, issue 18): ``{"add_database": name}`` and/or ``{"drop_database": name}``."""
    state: OdooLabState = request.app.state.lab
    payload = await request.json()
    if not isinstance(payload, dict):
        return JSONResponse({"error": "expected an object"}, 400)
    if isinstance(payload.get("add_database"), str):
        state.add_database(payload["add_database"], initialized=True)
    if isinstance(payload.get("drop_database"), str):
        state.drop(payload["drop_database"])
    return JSONResponse({"databases": state.names()})


def create_odoo_lab(
    master_password: str,
    version: str = "17.0",
    base_domain: str = "sajet.us",
    *,
    faults: FaultPlan | None = None,
    list_db: bool = True,
    create_delay_s: float = 0.0,
    state: OdooLabState | None = None,
) -> Starlette:
    """Build the emulator app; ``app.state.lab`` is the :class:`OdooLabState` and
    ``app.state.faults`` the :class:`FaultPlan` (share one plan across emulators)."""
    lab_state = state or OdooLabState(
        master_password,
        version,
        base_domain=base_domain,
        list_db=list_db,
        create_delay_s=create_delay_s,
    )
    plan = faults or FaultPlan()
    lab = _OdooLab(lab_state, plan)
    routes = [
        Route("/jsonrpc", lab.jsonrpc, methods=["POST"]),
        Route("/web/health", lab.health, methods=["GET"]),
        Route("/web/webclient/version_info", lab.version_info, methods=["POST"]),
        Route("/web/login", lab.login, methods=["GET"]),
        Route("/web/session/authenticate", lab.session_authenticate, methods=["POST"]),
        Route("/web/dataset/call_kw/{path:path}", lab.call_kw, methods=["POST"]),
        Route("/web/database/backup", lab.backup, methods=["POST"]),
        Route("/web/database/restore", lab.restore, methods=["POST"]),
        Route("/_lab/config", lab.lab_config, methods=["POST"]),
        Route("/_lab/sabotage", _sabotage, methods=["POST"]),
        *lab_control_routes(plan, lab_state.snapshot, lab_state.reset),
    ]
    app = Starlette(routes=routes)
    app.state.lab = lab_state
    app.state.faults = plan
    return app
