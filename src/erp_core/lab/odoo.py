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
import copy as copy_module
import hashlib
import html
import io
import json
import re
import tempfile
import threading
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO, Any

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

__all__ = ["LabDatabase", "OdooFault", "OdooLabState", "create_odoo_lab"]

_CHUNK = 64 * 1024
_DBNAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_ACCESS_DENIED = "odoo.exceptions.AccessDenied"
_MASTER_METHODS = {
    "create_database",
    "duplicate_database",
    "drop",
    "dump",
    "restore",
    "rename",
    "change_admin_password",
}


class OdooFault(Exception):
    """An Odoo exception to render: ``name`` is the class path Odoo reports."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _hash(password: str) -> str:
    return "lab-sha256$" + hashlib.sha256(password.encode()).hexdigest()


@dataclass
class LabDatabase:
    """The slice of an Odoo database the control plane can observe."""

    name: str
    company_name: str = "My Company"
    country_code: str | None = None
    lang: str = "en_US"
    db_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    neutralized: bool = False
    initialized: bool = True
    users: dict[int, tuple[str, str]] = field(default_factory=dict)  # uid -> (login, hash)
    filestore: dict[str, bytes] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)


class OdooLabState:
    """All databases of one emulated server, guarded by a lock (handlers run in the
    server thread while tests inspect from theirs)."""

    def __init__(
        self,
        master_password: str,
        version: str = "17.0",
        *,
        base_domain: str = "sajet.us",
        list_db: bool = True,
        proxy_mode: bool = True,
        create_delay_s: float = 0.0,
    ) -> None:
        self.master_password = master_password
        self.version = version
        self.base_domain = base_domain
        self.list_db = list_db
        self.proxy_mode = proxy_mode
        self.create_delay_s = create_delay_s
        self.dbfilter = "^%d$"
        self.lock = threading.RLock()
        self.databases: dict[str, LabDatabase] = {}
        self._reserved: set[str] = set()
        self._initial = (master_password, list_db, proxy_mode, create_delay_s)

    # --- inspection -----------------------------------------------------------------
    def version_info(self) -> dict[str, Any]:
        major, _, minor = self.version.partition(".")
        return {
            "server_version": self.version,
            "server_version_info": [int(major), int(minor or 0), 0, "final", 0, ""],
            "server_serie": self.version,
            "protocol_version": 1,
        }

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "version": self.version,
                "list_db": self.list_db,
                "create_delay_s": self.create_delay_s,
                "databases": {
                    name: {
                        "company_name": db.company_name,
                        "lang": db.lang,
                        "country_code": db.country_code,
                        "uuid": db.db_uuid,
                        "neutralized": db.neutralized,
                        "initialized": db.initialized,
                        "logins": sorted(login for login, _ in db.users.values()),
                    }
                    for name, db in self.databases.items()
                },
            }

    def reset(self) -> None:
        """Forget every database and restore the knobs given at construction."""
        with self.lock:
            self.databases.clear()
            self._reserved.clear()
            (self.master_password, self.list_db, self.proxy_mode, self.create_delay_s) = (
                self._initial
            )

    def names(self) -> list[str]:
        with self.lock:
            return sorted(self.databases)

    def exists(self, name: str) -> bool:
        with self.lock:
            return name in self.databases or name in self._reserved

    def get(self, name: str) -> LabDatabase:
        with self.lock:
            db = self.databases.get(name)
        if db is None:
            raise OdooFault("builtins.Exception", f"Database {name!r} does not exist")
        return db

    def database_for_host(self, host: str) -> LabDatabase | None:
        """Apply ``dbfilter`` the way Odoo does: port and ``www.`` stripped, ``%d`` is
        the first label, ``%h`` the whole host."""
        hostname = host.partition(":")[0].lower()
        if hostname.startswith("www."):
            hostname = hostname[4:]
        first = hostname.partition(".")[0]
        pattern = self.dbfilter.replace("%h", re.escape(hostname)).replace("%d", re.escape(first))
        with self.lock:
            matches = [db for name, db in self.databases.items() if re.match(pattern, name)]
        return matches[0] if len(matches) == 1 else None

    # --- checks ---------------------------------------------------------------------
    def check_super(self, password: str) -> None:
        if password != self.master_password:
            raise OdooFault(_ACCESS_DENIED, "Access Denied")

    def check_list_db(self) -> None:
        if not self.list_db:
            raise OdooFault(_ACCESS_DENIED, "Access Denied")

    def reserve(self, name: str) -> None:
        """Claim a name before slow work, so a concurrent create sees it as taken."""
        if not _DBNAME.match(name):
            raise OdooFault("odoo.exceptions.UserError", f"Invalid database name {name!r}")
        with self.lock:
            if name in self.databases or name in self._reserved:
                raise OdooFault(
                    "odoo.service.db.DatabaseExists", f"database {name!r} already exists!"
                )
            self._reserved.add(name)

    # --- mutations ------------------------------------------------------------------
    def add_database(
        self,
        name: str,
        *,
        login: str = "admin",
        password: str = "admin",  # noqa: S107 - Odoo's own default after -i base
        company_name: str = "My Company",
        lang: str = "en_US",
        initialized: bool = True,
    ) -> LabDatabase:
        """Seed a database directly (tests); the RPC path goes through ``create``."""
        db = LabDatabase(name=name, company_name=company_name, lang=lang, initialized=initialized)
        if initialized:
            db.users = {1: ("__system__", _hash("")), 2: (login, _hash(password))}
            db.modules = {"base": f"{self.version}.1.3", "web": f"{self.version}.1.0"}
            digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
            db.filestore = {f"{digest[:2]}/{digest}": f"lab attachment of {name}\n".encode()}
        self.install(db)
        return db

    def create(
        self,
        name: str,
        login: str,
        password: str,
        lang: str,
        country_code: str | None,
        demo: bool,
        initialized: bool,
    ) -> None:
        db = self.add_database(
            name, login=login, password=password, lang=lang, initialized=initialized
        )
        db.country_code = country_code
        if demo and initialized:
            db.modules["lab_demo_data"] = f"{self.version}.1.0"

    def install(self, db: LabDatabase) -> None:
        with self.lock:
            self._reserved.discard(db.name)
            self.databases[db.name] = db

    def duplicate(self, src: str, new: str, neutralize: bool) -> bool:
        source = self.get(src)
        self.reserve(new)
        clone = copy_module.deepcopy(source)
        clone.name, clone.db_uuid = new, str(uuid.uuid4())
        clone.neutralized = clone.neutralized or neutralize
        self.install(clone)
        return True

    def drop(self, name: str) -> bool:
        with self.lock:
            return self.databases.pop(name, None) is not None

    def rename(self, old: str, new: str) -> bool:
        db = self.get(old)
        self.reserve(new)
        with self.lock:
            self.databases.pop(old, None)
        db.name = new
        self.install(db)
        return True

    # --- common / object services ---------------------------------------------------
    def login(self, db_name: str, login: str, password: str) -> int | bool:
        with self.lock:
            db = self.databases.get(db_name)
        if db is None:
            raise OdooFault(
                "psycopg2.OperationalError",
                f'connection to server failed: FATAL:  database "{db_name}" does not exist',
            )
        for uid, (user_login, pw_hash) in db.users.items():
            if user_login == login and pw_hash == _hash(password) and uid != 1:
                return uid
        return False

    def execute_kw(
        self,
        db_name: str,
        uid: int,
        password: str,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        db = self.get(db_name)
        user = db.users.get(int(uid))
        if user is None or user[1] != _hash(str(password)):
            raise OdooFault(_ACCESS_DENIED, "Access Denied")
        kwargs = kwargs or {}
        if model == "res.company":
            record = {"id": 1, "name": db.company_name, "country_code": db.country_code}
            if method == "write" and list(args[0]) == [1]:
                values = dict(args[1])
                db.company_name = str(values.get("name", db.company_name))
                return True
            if method in ("read", "search_read"):
                wanted = kwargs.get("fields") or (args[1] if len(args) > 1 else None)
                return [{k: v for k, v in record.items() if not wanted or k in (*wanted, "id")}]
        if model == "res.users" and method == "search_read":
            rows = [
                {"id": uid_, "login": login} for uid_, (login, _) in db.users.items() if uid_ != 1
            ]
            for term in args[0] if args else []:
                if isinstance(term, list | tuple) and term[0] == "login" and term[1] == "=":
                    rows = [row for row in rows if row["login"] == term[2]]
            return rows
        raise OdooFault(
            "odoo.exceptions.UserError",
            f"The method '{method}' does not exist on the model '{model}' in the lab",
        )


# --- backup zips ----------------------------------------------------------------------
def _copy_escape(value: str | None) -> str:
    if value is None:
        return "\\N"
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copy_unescape(value: str) -> str | None:
    if value == "\\N":
        return None
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n"}.get(m[1], m[1]), value)


def dump_sql(db: LabDatabase) -> str:
    """A plain ``pg_dump``-looking script whose COPY blocks hold the emulated state."""
    tables: list[tuple[str, str, list[list[str | None]]]] = [
        (
            "res_company",
            "id, name, country_code",
            [["1", db.company_name, db.country_code]],
        ),
        (
            "res_users",
            "id, login, password, lang",
            [[str(uid), login, pw_hash, db.lang] for uid, (login, pw_hash) in db.users.items()],
        ),
        (
            "ir_config_parameter",
            "key, value",
            [
                ["database.uuid", db.db_uuid],
                ["database.is_neutralized", "True" if db.neutralized else "False"],
                ["lab.initialized", "True" if db.initialized else "False"],
            ],
        ),
        (
            "ir_module_module",
            "name, latest_version, state",
            [[name, version, "installed"] for name, version in db.modules.items()],
        ),
    ]
    lines = [
        "--",
        "-- PostgreSQL database dump (erp-core Odoo lab)",
        "--",
        "SET statement_timeout = 0;",
        "SET client_encoding = 'UTF8';",
        "SET standard_conforming_strings = on;",
        "",
    ]
    for table, columns, rows in tables:
        lines.append(f"CREATE TABLE public.{table} ({columns});")
        lines.append(f"COPY public.{table} ({columns}) FROM stdin;")
        lines.extend("\t".join(_copy_escape(cell) for cell in row) for row in rows)
        lines.extend(["\\.", ""])
    lines.append("-- PostgreSQL database dump complete")
    return "\n".join(lines) + "\n"


def _parse_dump(sql: str) -> dict[str, list[list[str | None]]]:
    tables: dict[str, list[list[str | None]]] = {}
    current: str | None = None
    for line in sql.splitlines():
        if current is None:
            match = re.match(r"COPY public\.(\w+) \(.*\) FROM stdin;$", line)
            if match:
                current = match[1]
                tables[current] = []
        elif line == "\\.":
            current = None
        else:
            tables[current].append([_copy_unescape(cell) for cell in line.split("\t")])
    return tables


def write_backup_zip(db: LabDatabase, target: IO[bytes], state: OdooLabState) -> None:
    """Write an Odoo-format backup of ``db`` (dump.sql, filestore/, manifest.json)."""
    manifest = {
        "odoo_dump": "1",
        "db_name": db.name,
        "version": state.version,
        "version_info": state.version_info()["server_version_info"],
        "major_version": state.version,
        "pg_version": "16.0",
        "modules": dict(db.modules),
    }
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dump.sql", dump_sql(db))
        for path, content in db.filestore.items():
            archive.writestr(f"filestore/{path}", content)
        archive.writestr("manifest.json", json.dumps(manifest, indent=4))


def database_from_zip(source: IO[bytes], name: str, copy: bool, neutralize: bool) -> LabDatabase:
    """Rebuild a database from an Odoo backup zip; a bad archive is Odoo's restore error."""
    try:
        with zipfile.ZipFile(source) as archive:
            sql = archive.read("dump.sql").decode()
            filestore = {
                entry[len("filestore/") :]: archive.read(entry)
                for entry in archive.namelist()
                if entry.startswith("filestore/") and not entry.endswith("/")
            }
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError) as exc:
        raise OdooFault("builtins.Exception", f"Couldn't restore database: {exc}") from exc
    tables = _parse_dump(sql)
    params = {row[0]: row[1] for row in tables.get("ir_config_parameter", [])}
    db = LabDatabase(name=name, filestore=filestore)
    for row in tables.get("res_company", [])[:1]:
        db.company_name, db.country_code = row[1] or "", row[2]
    for row in tables.get("res_users", []):
        db.users[int(row[0] or 0)] = (row[1] or "", row[2] or "")
        db.lang = row[3] or db.lang
    db.modules = {row[0] or "": row[1] or "" for row in tables.get("ir_module_module", [])}
    db.initialized = params.get("lab.initialized") != "False"
    db.neutralized = neutralize or params.get("database.is_neutralized") == "True"
    db.db_uuid = str(uuid.uuid4()) if copy else params.get("database.uuid") or str(uuid.uuid4())
    return db


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
                return state.exists(str(args[0]))
            if method == "list":
                state.check_list_db()
                return state.names()
            if method == "list_lang":
                return [["en_US", "English (US)"], ["es_ES", "Spanish / Español"]]
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
        failure = await self.faults.apply("web.login")
        if failure is not None:
            return _failure_response(failure, None)
        host = request.headers.get("host", "")
        forwarded = request.headers.get("x-forwarded-host")
        if self.state.proxy_mode and forwarded:
            host = forwarded
        db = self.state.database_for_host(host)
        if db is None:
            return HTMLResponse("<html><body><h1>404: Not Found</h1></body></html>", 404)
        if not db.initialized:
            return HTMLResponse("<html><body><h1>Internal Server Error</h1></body></html>", 500)
        return _login_page(db)

    async def backup(self, request: Request) -> Response:
        if not self.state.list_db:
            return HTMLResponse("<h1>Forbidden</h1>", 403)
        failure = await self.faults.apply("web.backup")
        if failure is not None:
            return _failure_response(failure, None)
        form = await request.form()
        name = str(form.get("name", ""))
        try:
            self.state.check_super(str(form.get("master_pwd", "")))
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

        headers = {"Content-Disposition": f'attachment; filename="{name}.zip"'}
        return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)

    async def restore(self, request: Request) -> Response:
        if not self.state.list_db:
            return HTMLResponse("<h1>Forbidden</h1>", 403)
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
        Route("/web/database/backup", lab.backup, methods=["POST"]),
        Route("/web/database/restore", lab.restore, methods=["POST"]),
        Route("/_lab/config", lab.lab_config, methods=["POST"]),
        *lab_control_routes(plan, lab_state.snapshot, lab_state.reset),
    ]
    app = Starlette(routes=routes)
    app.state.lab = lab_state
    app.state.faults = plan
    return app
