"""Odoo database management over JSON-RPC and the ``/web/database/*`` form routes.

One :class:`OdooRpcManager` talks to one Odoo server. It maps Odoo's failure shapes
(JSON-RPC ``error`` with HTTP 200, HTML error pages from the database routes, proxy 5xx)
onto :class:`DriverError` with a Spanish message that names the operation and never
contains a password. Backups and restores stream, so a multi-gigabyte database never
sits in memory. This transport dies with Odoo 20 (no ``db`` service); an SSH/CLI driver
behind the same :class:`~erp_core.drivers.base.OdooDatabaseManager` protocol replaces it.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
import zipfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from itertools import count
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from erp_core.drivers.base import (
    PAUSED_CRONS_PARAM,
    CompanyProfile,
    DriverError,
    OdooHealth,
    PermanentDriverError,
    ServiceUser,
    TransientDriverError,
    personalization,
)

__all__ = ["OdooRpcManager"]

logger = logging.getLogger(__name__)

_ACCESS_DENIED = "odoo.exceptions.AccessDenied"
_DB_EXISTS = "odoo.service.db.DatabaseExists"
# PostgreSQL refusing or interrupting Odoo's work for a moment, not because of the call:
# Odoo's own pool full, a lock or serialisation conflict with another request, a database
# still in use while dropped; and a plain OperationalError only for a refused or lost
# connection ("too many clients already" when a burst of creates meets max_connections).
# A plain OperationalError is also how Odoo says a database does not exist, and that one
# will not change with time. The same call succeeds later, so these retry like a timeout.
_TRANSIENT_DB_ERRORS = frozenset(
    {
        "psycopg2.pool.PoolError",
        "psycopg2.errors.SerializationFailure",
        "psycopg2.errors.DeadlockDetected",
        "psycopg2.errors.LockNotAvailable",
        "psycopg2.errors.ObjectInUse",
        "psycopg2.errors.TooManyConnections",
    }
)
_TRANSIENT_CONNECTION_MESSAGES = (
    "too many clients",
    "remaining connection slots",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
)


def postgres_busy(message: str) -> bool:
    """Whether an Odoo error text is PostgreSQL refusing or dropping a connection for a
    moment (host mode reads the same words in ``odoo-bin``'s traceback)."""
    lowered = message.lower()
    return any(needle in lowered for needle in _TRANSIENT_CONNECTION_MESSAGES)


def _transient_db_error(name: str, message: str) -> bool:
    if name in _TRANSIENT_DB_ERRORS:
        return True
    return name == "psycopg2.OperationalError" and postgres_busy(message)


def cookieless_client(**kwargs: Any) -> httpx.AsyncClient:
    """An HTTP client for Odoo servers whose cookie jar keeps nothing.

    Sessions travel explicitly (``Cookie: session_id=…`` per request). A shared jar is a
    race between concurrent requests: a ``Set-Cookie`` from database A's login lands in the
    jar and rides along on a request for database B, and Odoo logs out a session whose
    database the Host's dbfilter rejects ("Logged into database 'A', but dbfilter rejects
    it; logging session out"). Twenty creates at once lost sessions that way on a real
    Odoo 19. ``response.cookies`` still reads each response's own ``Set-Cookie``."""
    jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(cookies=jar, follow_redirects=False, **kwargs)


_ERROR_DIV = re.compile(r'class="alert alert-danger"[^>]*>(.*?)</div>', re.S)
_CHUNK = 64 * 1024
_PROBE_DB = "erp-core-health-probe-does-not-exist"
"""A database name the health probe asks Odoo to drop: it never exists, so nothing is dropped
(Odoo answers false), yet the master password is checked first."""


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in vendor text before it reaches an exception or a log."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class OdooRpcManager:
    """Manage the databases of one Odoo server (17–19) through its public HTTP API.

    ``base_domain`` names the tenants' hostnames (``<db>.<base_domain>``): a shared server
    runs ``dbfilter = ^%d$`` with ``proxy_mode``, so its database routes only know the
    database the request's (forwarded) Host names; every such route is sent with it.
    ``timeout`` bounds ordinary calls; ``slow_timeout`` bounds create/duplicate/restore
    and backups, which take minutes on real servers. Pass ``client`` to share a pool
    (it is then not closed by :meth:`aclose`).
    """

    def __init__(
        self,
        base_url: str,
        master_password: str,
        *,
        timeout: float = 30.0,
        slow_timeout: float = 900.0,
        client: httpx.AsyncClient | None = None,
        base_domain: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.base_domain = base_domain
        self._master_password = master_password
        self._timeout = httpx.Timeout(timeout)
        self._slow_timeout = httpx.Timeout(slow_timeout, connect=timeout)
        self._owns_client = client is None
        self._client = client or cookieless_client(timeout=self._timeout)
        self._ids = count(1)
        # (db, login) -> (session id, uid): see _session_call
        self._sessions: dict[tuple[str, str], tuple[str, int]] = {}
        self._session_locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    def host_headers(self, db: str) -> dict[str, str]:
        """Host and X-Forwarded-Host naming ``db`` the way dbfilter ``^%d$`` reads them.

        Odoo's ``/web/database/backup`` checks the name against the database list filtered
        by dbfilter *and the request's Host* (``X-Forwarded-Host`` under ``proxy_mode``): a
        request to the server's IP address is told "Database '…' is not known".
        """
        if not self.base_domain:
            return {}
        hostname = f"{db}.{self.base_domain}"
        return {"Host": hostname, "X-Forwarded-Host": hostname}

    async def __aenter__(self) -> OdooRpcManager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- transport ------------------------------------------------------------------
    def _transport_error(self, exc: httpx.HTTPError, operation: str) -> DriverError:
        detail = f"{type(exc).__name__}: {_scrub(str(exc), [self._master_password])}"
        if isinstance(exc, httpx.TimeoutException):
            return TransientDriverError(
                f"Odoo no respondió a tiempo al {operation}", vendor_detail=detail
            )
        if isinstance(exc, httpx.TransportError):
            return TransientDriverError(
                f"No se pudo conectar con Odoo al {operation}", vendor_detail=detail
            )
        return DriverError(f"Falló la comunicación con Odoo al {operation}", vendor_detail=detail)

    def _status_error(self, response: httpx.Response, operation: str) -> DriverError:
        status = response.status_code
        detail = f"HTTP {status} from {response.request.method} {response.request.url.path}"
        if status == 429:
            return TransientDriverError(
                f"Odoo está limitando las solicitudes (HTTP 429) al {operation}",
                vendor_detail=detail,
                status_code=status,
            )
        if status >= 500:
            return TransientDriverError(
                f"Odoo respondió con un error temporal (HTTP {status}) al {operation}",
                vendor_detail=detail,
                status_code=status,
            )
        if status == 403:
            return PermanentDriverError(
                f"Odoo tiene desactivada la gestión de bases de datos (list_db) al {operation}",
                vendor_detail=detail,
                status_code=status,
            )
        return DriverError(
            f"Odoo respondió HTTP {status} al {operation}", vendor_detail=detail, status_code=status
        )

    async def _call(
        self,
        service: str,
        method: str,
        args: list[Any],
        *,
        operation: str,
        secrets: Iterable[str] = (),
        slow: bool = False,
        login: str | None = None,
    ) -> Any:
        """One JSON-RPC call; ``secrets`` are scrubbed from any vendor detail."""
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": next(self._ids),
        }
        logger.debug("odoo rpc %s.%s (%s)", service, method, operation)
        try:
            response = await self._client.post(
                f"{self.base_url}/jsonrpc",
                json=payload,
                timeout=self._slow_timeout if slow else self._timeout,
            )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, operation) from None
        if response.status_code != 200:
            raise self._status_error(response, operation)
        try:
            body = response.json()
        except ValueError:
            raise DriverError(
                f"Odoo devolvió una respuesta no válida al {operation}",
                vendor_detail=f"non-JSON body: {response.text[:200]!r}",
            ) from None
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            raise self._rpc_error(error, service, operation, login, [*secrets])
        return body.get("result")

    def _rpc_error(
        self,
        error: dict[str, Any],
        service: str,
        operation: str,
        login: str | None,
        secrets: list[str],
    ) -> DriverError:
        data = error.get("data") or {}
        name = str(data.get("name") or "")
        vendor_message = str(data.get("message") or error.get("message") or "")
        detail = _scrub(f"{name}: {vendor_message}", [self._master_password, *secrets])
        if name == _ACCESS_DENIED and service == "db":
            message = f"Odoo rechazó la contraseña maestra al {operation}"
        elif name == _ACCESS_DENIED:
            message = f"Odoo rechazó las credenciales del usuario '{login}' al {operation}"
        elif name == _DB_EXISTS:
            message = f"No se pudo {operation}: la base de datos ya existe en Odoo"
        elif _transient_db_error(name, vendor_message):
            return TransientDriverError(
                f"La base de datos de Odoo está saturada u ocupada al {operation}",
                vendor_detail=detail,
                vendor_code=name,
            )
        else:
            return DriverError(
                f"Odoo devolvió un error al {operation}", vendor_detail=detail, vendor_code=name
            )
        return PermanentDriverError(message, vendor_detail=detail, vendor_code=name)

    async def _db(self, method: str, *args: Any, operation: str, slow: bool = False) -> Any:
        """A ``db`` service call that needs the master password as first argument."""
        return await self._call(
            "db", method, [self._master_password, *args], operation=operation, slow=slow
        )

    # --- db service -----------------------------------------------------------------
    async def server_version(self) -> str:
        return str(await self._call("db", "server_version", [], operation="consultar la versión"))

    async def list_databases(self) -> list[str]:
        result = await self._call("db", "list", [], operation="listar las bases de datos")
        return [str(name) for name in result or []]

    async def list_languages(self) -> list[str]:
        """Language codes the server can install (``db.list_lang``; no password needed)."""
        result = await self._call("db", "list_lang", [], operation="listar los idiomas")
        return [str(row[0]) for row in result or [] if isinstance(row, list | tuple) and row]

    async def database_exists(self, name: str) -> bool:
        operation = f"comprobar si existe la base de datos '{name}'"
        return bool(await self._call("db", "db_exist", [name], operation=operation))

    async def create_database(
        self,
        name: str,
        *,
        admin_login: str,
        admin_password: str,
        lang: str,
        country_code: str | None = None,
        demo: bool = False,
    ) -> None:
        """Ask Odoo to create and initialise ``name``. Odoo may answer success even when
        initialisation failed: confirm with :meth:`verify_login` before trusting it."""
        operation = f"crear la base de datos '{name}'"
        result = await self._call(
            "db",
            "create_database",
            [self._master_password, name, demo, lang, admin_password, admin_login, country_code],
            operation=operation,
            secrets=[admin_password],
            slow=True,
        )
        if result is not True:
            raise DriverError(
                f"Odoo no confirmó la creación de la base de datos '{name}'",
                vendor_detail=f"create_database returned {result!r}",
            )

    async def duplicate_database(self, src: str, new: str, *, neutralize: bool = False) -> None:
        operation = f"duplicar la base de datos '{src}' como '{new}'"
        await self._db("duplicate_database", src, new, neutralize, operation=operation, slow=True)

    async def drop_database(self, name: str) -> bool:
        """Drop ``name``; ``False`` means it did not exist (already dropped: idempotent)."""
        operation = f"eliminar la base de datos '{name}'"
        return bool(await self._db("drop", name, operation=operation, slow=True))

    async def rename_database(self, old: str, new: str) -> None:
        operation = f"renombrar la base de datos '{old}' a '{new}'"
        await self._db("rename", old, new, operation=operation, slow=True)

    async def change_master_password(self, new_password: str) -> None:
        """Rotate the server's master password; this manager uses the new one afterwards."""
        await self._call(
            "db",
            "change_admin_password",
            [self._master_password, new_password],
            operation="cambiar la contraseña maestra",
            secrets=[new_password],
        )
        self._master_password = new_password

    # --- common / object services ---------------------------------------------------
    # --- web session (one password check, then cheap calls) ------------------------
    async def _web(
        self,
        path: str,
        params: dict[str, Any],
        *,
        db: str,
        operation: str,
        secrets: Iterable[str],
        session_id: str | None = None,
        login: str | None = None,
    ) -> tuple[Any, httpx.Response]:
        payload = {"jsonrpc": "2.0", "method": "call", "params": params, "id": next(self._ids)}
        headers = self.host_headers(db)
        if session_id:
            headers["Cookie"] = f"session_id={session_id}"
        try:
            response = await self._client.post(
                f"{self.base_url}{path}", json=payload, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, operation) from None
        if response.status_code != 200:
            raise self._status_error(response, operation)
        try:
            body = response.json()
        except ValueError:
            raise DriverError(
                f"Odoo devolvió una respuesta no válida al {operation}",
                vendor_detail=f"non-JSON body: {response.text[:200]!r}",
            ) from None
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            raise self._rpc_error(error, "object", operation, login, [*secrets])
        return body.get("result"), response

    async def _session(self, db: str, login: str, password: str) -> tuple[str, int]:
        """Log in once through ``/web/session/authenticate`` (the web client's way): every
        ``object.execute_kw`` re-checks the password (PBKDF2, 600,000 rounds: ~0.25 s of
        Odoo's CPU each), a session is checked with an HMAC. Needs the tenant's Host
        (``base_domain``) where dbfilter is set."""
        cached = self._sessions.get((db, login))
        if cached:
            return cached
        # Concurrent calls (asyncio.gather) share one login: each is a PBKDF2 check.
        async with self._session_locks.setdefault((db, login), asyncio.Lock()):
            cached = self._sessions.get((db, login))
            if cached:
                return cached
            return await self._authenticate(db, login, password)

    async def _authenticate(self, db: str, login: str, password: str) -> tuple[str, int]:
        operation = f"iniciar sesión con '{login}' en la base de datos '{db}'"
        result, response = await self._web(
            "/web/session/authenticate",
            {"db": db, "login": login, "password": password},
            db=db,
            operation=operation,
            secrets=[password],
            login=login,
        )
        session_id = response.cookies.get("session_id")
        uid = (result or {}).get("uid") if isinstance(result, dict) else None
        if not session_id or not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
            raise PermanentDriverError(
                f"Odoo rechazó el inicio de sesión de '{login}' en la base de datos '{db}'",
                vendor_detail=f"session/authenticate uid={uid!r}",
                vendor_code="login_failed",
            )
        self._sessions[(db, login)] = (session_id, uid)
        return session_id, uid

    async def _session_call(
        self,
        db: str,
        login: str,
        password: str,
        model: str,
        method: str,
        *args: Any,
        secrets: Iterable[str] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        """``model.method(*args, **kwargs)`` as ``login`` through a web session when the
        server can be addressed by Host (``base_domain``), else through
        ``object.execute_kw``."""
        if not self.base_domain:
            uid = await self.verify_login(db, login, password)
            call_args: list[Any] = [db, uid, password, model, method, list(args)]
            if kwargs:
                call_args.append(kwargs)
            return await self._call(
                "object",
                "execute_kw",
                call_args,
                operation=f"configurar {model} en la base de datos '{db}'",
                secrets=[password, *secrets],
                login=login,
            )
        session_id, _uid = await self._session(db, login, password)
        result, _response = await self._web(
            f"/web/dataset/call_kw/{model}.{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs or {}},
            db=db,
            operation=f"configurar {model} en la base de datos '{db}'",
            secrets=[password, *secrets],
            session_id=session_id,
            login=login,
        )
        return result

    async def verify_login(self, db: str, login: str, password: str) -> int:
        """Log in through ``common.login``: the uid, or :class:`PermanentDriverError`."""
        operation = f"iniciar sesión con '{login}' en la base de datos '{db}'"
        try:
            uid = await self._call(
                "common", "login", [db, login, password], operation=operation, secrets=[password]
            )
        except DriverError as exc:
            if exc.vendor_code != "builtins.KeyError" or isinstance(exc, TransientDriverError):
                raise
            # An uninitialised database has no models: ``KeyError: 'res.users'``. It is what
            # create_database leaves behind when initialisation failed (a bad language).
            raise PermanentDriverError(
                f"La base de datos '{db}' no está inicializada (Odoo no pudo instalar base)",
                vendor_detail=exc.vendor_detail,
                vendor_code="not_initialized",
            ) from None
        if isinstance(uid, int) and not isinstance(uid, bool) and uid > 0:
            return uid
        raise PermanentDriverError(
            f"Odoo rechazó el inicio de sesión de '{login}' en la base de datos '{db}'",
            vendor_detail=f"common.login returned {uid!r}",
            vendor_code="login_failed",
        )

    async def set_company_name(self, db: str, login: str, password: str, company_name: str) -> None:
        """Rename the main company (``res.company`` id 1): Odoo leaves "My Company"."""
        uid = await self.verify_login(db, login, password)
        operation = f"asignar el nombre de la empresa en la base de datos '{db}'"
        result = await self._call(
            "object",
            "execute_kw",
            [db, uid, password, "res.company", "write", [[1], {"name": company_name}]],
            operation=operation,
            secrets=[password],
            login=login,
        )
        if result is not True:
            raise DriverError(
                f"Odoo no confirmó el cambio de nombre de la empresa en '{db}'",
                vendor_detail=f"res.company.write returned {result!r}",
            )

    async def _execute(
        self,
        db: str,
        uid: int,
        password: str,
        model: str,
        method: str,
        *args: Any,
        login: str,
        kwargs: dict[str, Any] | None = None,
        secrets: Iterable[str] = (),
    ) -> Any:
        operation = f"configurar {model} en la base de datos '{db}'"
        call_args: list[Any] = [db, uid, password, model, method, list(args)]
        if kwargs:
            call_args.append(kwargs)
        return await self._call(
            "object",
            "execute_kw",
            call_args,
            operation=operation,
            secrets=[password, *secrets],
            login=login,
        )

    async def set_config_param(
        self, db: str, login: str, password: str, key: str, value: str
    ) -> None:
        """``ir.config_parameter.set_param`` as the tenant's administrator (issue 17:
        ``web.base.url`` follows the tenant's primary domain)."""
        uid = await self.verify_login(db, login, password)
        await self._execute(
            db, uid, password, "ir.config_parameter", "set_param", key, value, login=login
        )

    async def personalize(
        self, db: str, login: str, password: str, profile: CompanyProfile
    ) -> None:
        """Make a fresh database the customer's: company name, e-mail, country with its
        currency (activated), the admin's language and ``web.base.url`` (frozen, or the
        first admin login through another address rewrites it). One login, then cheap
        session calls (see :meth:`_session`)."""
        plan = personalization(profile)

        async def call(model: str, method: str, *args: Any) -> Any:
            return await self._session_call(db, login, password, model, method, *args)

        company: dict[str, Any] = dict(plan.company)
        if plan.country_code:
            code = plan.country_code
            rows = await call("res.country", "search_read", [["code", "=", code]], ["currency_id"])
            if not rows:
                raise PermanentDriverError(
                    f"Odoo no conoce el país «{code}» (base de datos '{db}')",
                    vendor_detail=f"res.country {code} not found",
                )
            company["country_id"] = rows[0]["id"]
            currency = rows[0].get("currency_id")
            if currency:
                await call("res.currency", "write", [currency[0]], {"active": True})
                company["currency_id"] = currency[0]
        result = await call("res.company", "write", [1], company)
        if result is not True:
            raise DriverError(
                f"Odoo no confirmó los datos de la empresa en '{db}'",
                vendor_detail=f"res.company.write returned {result!r}",
            )
        uid = await self._uid(db, login, password)
        await call("res.users", "write", [uid], plan.admin)
        for key, value in plan.config:
            await call("ir.config_parameter", "set_param", key, value)

    async def _uid(self, db: str, login: str, password: str) -> int:
        if self.base_domain:
            return (await self._session(db, login, password))[1]
        return await self.verify_login(db, login, password)

    async def take_over_admin(
        self, db: str, login: str, password: str, new_login: str, new_password: str
    ) -> int:
        """Give a freshly cloned database its own administrator: as the template's admin,
        set the tenant's login (and e-mail, as ``create_database`` does) and password on
        that same user. Returns the admin's uid. The template's credentials stop working
        here, so this is the last call they allow (personalise first)."""
        uid = await self._uid(db, login, password)
        values: dict[str, Any] = {"login": new_login, "password": new_password}
        if "@" in new_login:
            values["email"] = new_login
        result = await self._session_call(
            db, login, password, "res.users", "write", [uid], values, secrets=[new_password]
        )
        self._sessions.pop((db, login), None)
        if result is not True:
            raise DriverError(
                f"Odoo no confirmó el administrador de '{db}'",
                vendor_detail=f"res.users.write returned {result!r}",
            )
        return int(uid)

    async def hand_over_admin(
        self,
        db: str,
        login: str,
        password: str,
        admin_login: str,
        new_login: str,
        *,
        lang: str,
        new_password: str | None = None,
    ) -> None:
        """As ``login`` (a prepared spare's service user), give the administrator still
        called ``admin_login`` the tenant's login, e-mail and language, and a new password
        only when one is given: a spare's administrator already has the password the
        tenant was shown, and every new password is another PBKDF2 hash."""
        # The new login too: a step retried after the write landed finds it handed over.
        found = await self._session_call(
            db, login, password, "res.users", "search",
            [["login", "in", [admin_login, new_login]]],
            kwargs={"context": {"active_test": False}},
        )  # fmt: skip
        if not found:
            raise PermanentDriverError(
                f"No existe el usuario '{admin_login}' en la base de datos '{db}'",
                vendor_detail="res.users search returned no id",
            )
        values: dict[str, Any] = {"login": new_login, "lang": lang}
        if "@" in new_login:
            values["email"] = new_login
        if new_password:
            values["password"] = new_password
        result = await self._session_call(
            db, login, password, "res.users", "write", list(found), values,
            secrets=[new_password] if new_password else [],
        )  # fmt: skip
        if result is not True:
            raise DriverError(
                f"Odoo no confirmó el administrador de '{db}'",
                vendor_detail=f"res.users.write returned {result!r}",
            )

    async def pause_crons(self, db: str, login: str, password: str) -> list[int]:
        """Switch off a template's scheduled actions. Odoo's cron thread walks every database
        of its role (``list_dbs(True)`` ignores dbfilter), so without this a template would run
        jobs, write to itself and hold connections a clone must not find. The ids switched
        off are kept in the database (:data:`PAUSED_CRONS_PARAM`) for :meth:`resume_crons`."""
        ids = [int(i) for i in await self._session_call(
            db, login, password, "ir.cron", "search", [["active", "=", True]]
        )]  # fmt: skip
        if ids:
            await self._session_call(
                db, login, password, "ir.cron", "write", ids, {"active": False}
            )
        await self._session_call(
            db, login, password, "ir.config_parameter", "set_param", PAUSED_CRONS_PARAM,
            ",".join(str(i) for i in ids),
        )  # fmt: skip
        return ids

    async def resume_crons(self, db: str, login: str, password: str) -> list[int]:
        """In a clone: switch back on exactly what the template's build switched off, and
        forget the list (a tenant's database carries no trace of its template)."""
        raw = await self._session_call(
            db, login, password, "ir.config_parameter", "get_param", PAUSED_CRONS_PARAM
        )
        ids = [int(part) for part in str(raw or "").split(",") if part.strip().isdigit()]
        if ids:
            await self._session_call(db, login, password, "ir.cron", "write", ids, {"active": True})
        await self._session_call(
            db, login, password, "ir.config_parameter", "set_param", PAUSED_CRONS_PARAM, False
        )
        return ids

    async def install_modules(
        self, db: str, login: str, password: str, modules: list[str]
    ) -> list[str]:
        """Install ``modules`` (and their dependencies) with ``button_immediate_install``;
        returns the ones that are installed afterwards. An unknown module fails."""
        if not modules:
            return []
        uid = await self.verify_login(db, login, password)
        rows = await self._execute(
            db,
            uid,
            password,
            "ir.module.module",
            "search_read",
            [["name", "in", list(modules)]],
            ["name", "state"],
            login=login,
        )
        unknown = sorted(set(modules) - {str(r["name"]) for r in rows})
        if unknown:
            raise PermanentDriverError(
                f"Odoo no conoce los módulos {', '.join(unknown)} (base de datos '{db}')",
                vendor_detail=f"ir.module.module lacks {unknown}",
            )
        pending = [int(r["id"]) for r in rows if r["state"] != "installed"]
        if pending:
            await self._call(
                "object",
                "execute_kw",
                [db, uid, password, "ir.module.module", "button_immediate_install", [pending]],
                operation=f"instalar módulos en la base de datos '{db}'",
                secrets=[password],
                login=login,
                slow=True,
            )
        rows = await self._execute(
            db,
            uid,
            password,
            "ir.module.module",
            "search_read",
            [["name", "in", list(modules)], ["state", "=", "installed"]],
            ["name"],
            login=login,
        )
        return sorted(str(r["name"]) for r in rows)

    async def ensure_service_user(
        self, db: str, login: str, password: str, user: ServiceUser
    ) -> None:
        """Create the control plane's service user as ``login`` (an administrator), or reset
        it when it exists (an earlier attempt, a restored copy): internal user with Settings
        rights (``base.group_system``) and the given password. Idempotent. One login, then
        session calls (five ``execute_kw`` calls were five more password checks)."""
        hidden = [user["password"]]

        async def call(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
            return await self._session_call(
                db, login, password, model, method, *args, secrets=hidden, kwargs=kwargs
            )

        refs = await call(
            "ir.model.data",
            "search_read",
            [["module", "=", "base"], ["name", "in", ["group_user", "group_system"]]],
            fields=["name", "res_id"],
        )
        groups = sorted(int(row["res_id"]) for row in refs or [])
        if len(groups) != 2:
            raise PermanentDriverError(
                f"Odoo no tiene los grupos de usuario interno y de Ajustes en '{db}'",
                vendor_detail=f"ir.model.data base.group_user/group_system: {refs!r}",
            )
        # Odoo 19 calls the groups field group_ids; 17 and 18 call it groups_id.
        fields = await call(
            "res.users", "fields_get", ["group_ids", "groups_id"], attributes=["type"]
        )
        group_field = "group_ids" if "group_ids" in (fields or {}) else "groups_id"
        values: dict[str, Any] = {
            "name": user["name"],
            "password": user["password"],
            "active": True,
            group_field: [[6, 0, groups]],
        }
        existing = await call(
            "res.users", "search", [["login", "=", user["login"]]], context={"active_test": False}
        )
        if existing:
            result = await call("res.users", "write", list(existing), values)
        else:
            result = await call("res.users", "create", [{"login": user["login"], **values}])
        if not result:
            raise DriverError(
                f"Odoo no confirmó el usuario de servicio en '{db}'",
                vendor_detail=f"res.users answered {result!r}",
            )

    async def set_user_password(
        self, db: str, login: str, password: str, target_login: str, new_password: str
    ) -> None:
        """Give ``target_login`` a new password, acting as ``login``. When the target is
        ``login`` itself, this is the last call that password allows."""
        uid = await self.verify_login(db, login, password)
        hidden = [new_password]
        found = await self._execute(
            db,
            uid,
            password,
            "res.users",
            "search",
            [["login", "=", target_login]],
            login=login,
            kwargs={"context": {"active_test": False}},
        )
        if not found:
            raise PermanentDriverError(
                f"No existe el usuario '{target_login}' en la base de datos '{db}'",
                vendor_detail="res.users search returned no id",
            )
        result = await self._execute(
            db,
            uid,
            password,
            "res.users",
            "write",
            list(found),
            {"password": new_password},
            login=login,
            secrets=hidden,
        )
        if result is not True:
            raise DriverError(
                f"Odoo no confirmó la nueva contraseña de '{target_login}' en '{db}'",
                vendor_detail=f"res.users.write returned {result!r}",
            )

    async def read_company(self, db: str, login: str, password: str) -> dict[str, Any]:
        """What the tenant's company looks like inside Odoo (checks and the UI)."""
        uid = await self.verify_login(db, login, password)
        rows = await self._execute(
            db,
            uid,
            password,
            "res.company",
            "read",
            [1],
            ["name", "email", "country_id", "currency_id"],
            login=login,
        )
        return dict(rows[0]) if rows else {}

    # --- backups --------------------------------------------------------------------
    def _page_error(self, page: str, operation: str) -> DriverError:
        """Odoo's database routes answer errors as an HTML page with HTTP 200."""
        match = _ERROR_DIV.search(page)
        text = html.unescape(match.group(1)).strip() if match else page[:200]
        detail = _scrub(text, [self._master_password])
        if "Access Denied" in text:
            # The same page for a wrong master password and for list_db = False (never a
            # 403); the server's health check tells the two apart.
            return PermanentDriverError(
                f"Odoo rechazó la contraseña maestra o tiene desactivada la gestión de bases "
                f"de datos (list_db) al {operation}",
                vendor_detail=detail,
                vendor_code=_ACCESS_DENIED,
            )
        return DriverError(f"Odoo no pudo {operation}", vendor_detail=detail)

    @asynccontextmanager
    async def backup_stream(
        self, name: str, *, chunk_size: int = _CHUNK
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """``async with manager.backup_stream("acme") as chunks: async for c in chunks``.

        The zip is streamed from ``/web/database/backup`` as it is produced; errors before
        the first byte and in the middle of the transfer become :class:`DriverError`.
        """
        operation = f"hacer la copia de seguridad de '{name}'"
        form = {"master_pwd": self._master_password, "name": name, "backup_format": "zip"}
        try:
            async with self._client.stream(
                "POST",
                f"{self.base_url}/web/database/backup",
                data=form,
                headers=self.host_headers(name),
                timeout=self._slow_timeout,
            ) as response:
                if response.status_code != 200:
                    raise self._status_error(response, operation)
                if response.headers.get("content-type", "").startswith("text/html"):
                    await response.aread()
                    raise self._page_error(response.text, operation)
                yield self._chunks(response, operation, chunk_size)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, operation) from None

    async def _chunks(
        self, response: httpx.Response, operation: str, chunk_size: int
    ) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, operation) from None

    async def backup_to_file(self, name: str, path: Path) -> int:
        """Stream a backup to ``path`` and check it is an Odoo zip; returns its size."""
        written = 0
        async with self.backup_stream(name) as chunks:
            with path.open("wb") as handle:
                async for chunk in chunks:
                    handle.write(chunk)
                    written += len(chunk)
        try:
            with zipfile.ZipFile(path) as archive:
                missing = {"dump.sql", "manifest.json"} - set(archive.namelist())
        except zipfile.BadZipFile:
            missing = {"zip"}
        if missing:
            raise DriverError(
                f"La copia de seguridad de '{name}' está incompleta",
                vendor_detail=f"backup zip lacks {sorted(missing)}",
            )
        return written

    async def restore_from_file(
        self, name: str, path: Path, *, copy: bool = True, neutralize: bool = False
    ) -> None:
        """Upload a backup zip as database ``name`` (multipart, streamed from disk).

        ``copy`` gives the restored database a new UUID (Odoo's "this is a copy"). Odoo
        treats any non-empty ``neutralize_database`` as true, so false omits the field.
        """
        operation = f"restaurar la base de datos '{name}'"
        form = {"master_pwd": self._master_password, "name": name}
        if copy:
            form["copy"] = "true"
        if neutralize:
            form["neutralize_database"] = "true"
        try:
            with path.open("rb") as handle:
                response = await self._client.post(
                    f"{self.base_url}/web/database/restore",
                    data=form,
                    headers=self.host_headers(name),
                    files={"backup_file": (path.name, handle, "application/zip")},
                    timeout=self._slow_timeout,
                )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, operation) from None
        if response.status_code in (302, 303):
            return
        if response.status_code == 200:
            raise self._page_error(response.text, operation)
        raise self._status_error(response, operation)

    # --- probes ---------------------------------------------------------------------
    async def health(self, *, management: bool = True) -> OdooHealth:
        """Probe the server as the control plane uses it; reports, never raises.

        ``management=False`` is a liveness probe only (a container still starting, before
        its master password is known).

        ``/web/health`` only says the process is up. A server we cannot manage looks just
        as healthy there, so three more cheap, harmless calls tell the usual
        misconfigurations apart: ``db.list`` (``/jsonrpc`` missing answers 404;
        ``list_db = False`` raises AccessDenied) and ``db.drop`` of a name that cannot
        exist (the master password is checked first; a wrong one raises AccessDenied,
        a right one answers false and drops nothing).
        """
        started = time.perf_counter()

        def down(detail: str, version: str | None = None) -> OdooHealth:
            latency_ms = round((time.perf_counter() - started) * 1000, 1)
            return {
                "status": "down",
                "version": version,
                "latency_ms": latency_ms,
                "detail": detail,
            }

        try:
            response = await self._client.get(f"{self.base_url}/web/health")
            latency_ms = round((time.perf_counter() - started) * 1000, 1)
            healthy = response.status_code == 200 and response.json().get("status") == "pass"
            if not healthy:
                return down(f"/web/health respondió HTTP {response.status_code}")
            info = await self._client.post(
                f"{self.base_url}/web/webclient/version_info",
                json={"jsonrpc": "2.0", "method": "call", "params": {}, "id": next(self._ids)},
            )
            version = (info.json().get("result") or {}).get("server_version")
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            return down(f"{type(exc).__name__}: {_scrub(str(exc), [self._master_password])}")
        version_text = str(version) if version else None
        problem = await self._management_problem() if management else None
        if problem is not None:
            return down(problem, version_text)
        return {"status": "ok", "version": version_text, "latency_ms": latency_ms, "detail": None}

    async def _management_problem(self) -> str | None:
        """Why this server cannot be managed over RPC (Spanish), or None when it can."""
        try:
            await self._call("db", "list", [], operation="listar las bases de datos")
        except DriverError as exc:
            if exc.status_code == 404:
                return (
                    "El servidor no ofrece /jsonrpc (Odoo 20 o superior, o el módulo rpc no "
                    "está instalado): use el modo host."
                )
            if exc.vendor_code == _ACCESS_DENIED:
                return (
                    "Odoo tiene desactivada la gestión de bases de datos (list_db = False): "
                    "active list_db en odoo.conf o use el modo host."
                )
            return exc.message
        try:
            await self._db("drop", _PROBE_DB, operation="comprobar la contraseña maestra")
        except DriverError as exc:
            if exc.vendor_code == _ACCESS_DENIED:
                return "Odoo rechazó la contraseña maestra del servidor."
            return exc.message
        return None

    async def login_page_ok(self, hostname: str, via_url: str | None = None) -> bool:
        """True when ``/web/login`` for ``hostname`` serves Odoo's login form.

        ``via_url`` sends the request elsewhere (the public edge, a proxy) while the Host
        header still names the customer's hostname, which is how Odoo picks the database.
        """
        url = f"{(via_url or self.base_url).rstrip('/')}/web/login"
        try:
            response = await self._client.get(url, headers={"Host": hostname})
        except httpx.HTTPError as exc:
            logger.info("login page probe for %s failed: %s", hostname, type(exc).__name__)
            return False
        page = response.text
        return (
            response.status_code == 200
            and 'name="login"' in page
            and ("oe_login_form" in page or "o_login_form" in page)
        )

    # --- object service (issue 18: usage) --------------------------------------------
    async def execute_kw(
        self,
        db: str,
        uid: int,
        password: str,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        """``object.execute_kw`` as ``uid`` (from :meth:`verify_login`; a password or an API
        key): read-only callers such as the usage reader use this instead of one driver
        method per query. Each ``common.login`` stamps the user's ``login_date``, so callers
        log in once and reuse the uid."""
        return await self._call(
            "object",
            "execute_kw",
            [db, uid, password, model, method, args, kwargs or {}],
            operation=f"leer {model} en la base de datos '{db}'",
            secrets=[password],
        )
