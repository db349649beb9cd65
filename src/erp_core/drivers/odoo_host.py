"""Odoo database management over SSH with Odoo's own CLI (host mode, for Odoo ≥ 20).

One :class:`OdooHostManager` drives one Odoo server through ``asyncssh``: optionally via
``pct exec <vmid> --`` when Odoo lives in a Proxmox container, and ``runuser -u <user> --``
when Odoo runs as its own system user. Each operation is a single remote command:

======================  ==============================================================
create                  ``odoo-bin -c CONF -d DB -i base
                        --load-language=LANG --stop-after-init`` (or the custom create
                        script), then ``odoo-bin shell`` sets the admin login/password
exists / list           ``psql … -c "SELECT datname FROM pg_database …"`` (Odoo's role)
verify_login / company  ``odoo-bin shell -c CONF -d DB`` with a script on stdin
duplicate / drop        ``odoo-bin db -c CONF duplicate [-n] SRC NEW`` / ``drop DB``
backup_stream           ``odoo-bin db -c CONF dump DB -`` read from the channel in chunks
restore_from_file       ``mktemp``, ``dd`` (file streamed on stdin), ``odoo-bin db load``
neutralize              ``odoo-bin neutralize -c CONF -d DB``
health                  ``odoo-bin --version`` and its latency
======================  ==============================================================

Safety: every argument is validated and joined with :func:`shlex.join`; secrets (admin
password, company name, login) travel only inside scripts on stdin, never on a command line
(``ps`` would show it to every user). Each command runs under ``timeout`` on the server and
``asyncio.timeout`` here (transport: :mod:`erp_core.drivers.ssh`). The custom create script
contract and the operator set-up are in ``docs/host-mode.md``.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import time
import zipfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
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
from erp_core.drivers.odoo import postgres_busy
from erp_core.drivers.ssh import (
    CHUNK,
    TOKEN_RE,
    USER_RE,
    CommandResult,
    OutputCallback,
    SshRunner,
    SshTarget,
    check_arg,
    check_text,
    invalid_argument,
    key_fingerprint,
)

__all__ = ["OdooHostManager", "OutputCallback", "SshTarget", "key_fingerprint"]

logger = logging.getLogger(__name__)

# A tenant's subdomain, a scratch name, a suspended tenant's locked name (``__susp_`` +
# subdomain, ``_<digest>`` when shortened to PostgreSQL's 63 bytes) or a template's
# (``__tpl_``): names no hostname can select, and nothing a shell reads.
DB_NAME_RE = re.compile(r"^(?=.{3,63}$)(?:__susp_|__tpl_)?[a-z0-9][a-z0-9_-]*[a-z0-9]$")
MODULE_RE = re.compile(r"^[a-z0-9_]{1,64}$")
LANG_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2}|_\d{3})?(@[A-Za-z]+)?$")  # es_419, sr@Cyrl
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_TEMP_RE = re.compile(r"^/[A-Za-z0-9_./-]+$")
LOG_TO_STDERR = "--logfile="
"""An empty ``logfile`` overrides ``odoo.conf``'s: Odoo then logs to stderr, so its errors
reach the job log and the failure message. With the operator's log file in place a real
``odoo-bin -i base`` that failed on a bad language showed only "Running as user 'root' is a
security risk." (``/dev/stderr`` instead would fail under ``runuser``: the SSH channel's
pipes belong to the login user and cannot be reopened by Odoo's.)"""
_DB_EXISTS = "odoo.service.db.DatabaseExists"
EXIT_EXISTS = 3
_LIST_SQL = (
    "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn "
    "AND pg_get_userbyid(datdba) = current_user ORDER BY datname"
)
_CHECK_LOGIN = """
env.cr.execute(
    "SELECT id, COALESCE(password, '') FROM res_users WHERE login = %s AND active",
    [PARAMS["login"]],
)
ROW = env.cr.fetchone()
CTX = env["res.users"]._crypt_context()
UID = ROW[0] if ROW and ROW[1] and CTX.verify(PARAMS["password"], ROW[1]) else 0
"""
_SCRIPTS = {
    # What Odoo's own create_database (service/db.py _initialize_db, RPC mode) does after
    # installing base, so a host-mode database starts out identical: admin login, password
    # and e-mail, the company's country and currency, the country's time zone when it has
    # only one.
    "set_admin": """
from pytz import country_timezones
from odoo.tools import email_split
ADMIN = env.ref("base.user_admin")
VALUES = {"login": PARAMS["login"]}
if PARAMS.get("password"):
    VALUES["password"] = PARAMS["password"]
if PARAMS.get("lang"):
    VALUES["lang"] = PARAMS["lang"]
EMAILS = email_split(PARAMS["login"])
if EMAILS:
    VALUES["email"] = EMAILS[0]
ADMIN.write(VALUES)
if EMAILS:
    env["res.company"].browse(1).email = PARAMS["login"]
if PARAMS.get("country"):
    COUNTRY = env["res.country"].search([("code", "=", PARAMS["country"])], limit=1)
    if COUNTRY:
        COMPANY = {"country_id": COUNTRY.id}
        if COUNTRY.currency_id:
            COMPANY["currency_id"] = COUNTRY.currency_id.id
        env["res.company"].browse(1).write(COMPANY)
        ZONES = country_timezones.get(PARAMS["country"], [])
        if len(ZONES) == 1:
            env["res.users"].search([]).write({"tz": ZONES[0]})
env.cr.commit()
print("ERP_CORE_OK")
""",
    "personalize": _CHECK_LOGIN
    + """
if UID:
    # Applies erp_core.drivers.base.Personalization (the plan RPC mode applies too).
    PLAN = PARAMS["plan"]
    VALUES = dict(PLAN["company"])
    if PLAN["country_code"]:
        COUNTRY = env["res.country"].search([("code", "=", PLAN["country_code"])], limit=1)
        if not COUNTRY:
            print("ERP_CORE_UNKNOWN_COUNTRY")
            raise SystemExit(0)
        VALUES["country_id"] = COUNTRY.id
        if COUNTRY.currency_id:
            COUNTRY.currency_id.active = True
            VALUES["currency_id"] = COUNTRY.currency_id.id
    env["res.company"].browse(1).write(VALUES)
    env["res.users"].browse(UID).write(PLAN["admin"])
    for KEY, VALUE in PLAN["config"]:
        env["ir.config_parameter"].set_param(KEY, VALUE)
    env.cr.commit()
    print("ERP_CORE_OK")
else:
    print("ERP_CORE_LOGIN_FAILED")
""",
    "list_languages": """
from odoo.tools.misc import scan_languages
print("ERP_CORE_LANGS=" + json.dumps([CODE for CODE, _NAME in scan_languages()]))
""",
    "set_params": """
for KEY, VALUE in PARAMS["params"]:
    env["ir.config_parameter"].set_param(KEY, VALUE)
env.cr.commit()
print("ERP_CORE_OK")
""",
    "set_param": _CHECK_LOGIN
    + """
if UID:
    env["ir.config_parameter"].set_param(PARAMS["key"], PARAMS["value"])
    env.cr.commit()
    print("ERP_CORE_OK")
else:
    print("ERP_CORE_LOGIN_FAILED")
""",
    "service_user": _CHECK_LOGIN
    + """
if UID:
    USERS = env["res.users"].with_context(active_test=False)
    GROUPS = env.ref("base.group_user") | env.ref("base.group_system")
    FIELD = "group_ids" if "group_ids" in USERS._fields else "groups_id"
    VALUES = {
        "name": PARAMS["name"],
        "password": PARAMS["service_password"],
        "active": True,
        FIELD: [(6, 0, GROUPS.ids)],
    }
    USER = USERS.search([("login", "=", PARAMS["service_login"])], limit=1)
    if USER:
        USER.write(VALUES)
    else:
        USERS.create({"login": PARAMS["service_login"], **VALUES})
    env.cr.commit()
    print("ERP_CORE_OK")
else:
    print("ERP_CORE_LOGIN_FAILED")
""",
    "set_password": _CHECK_LOGIN
    + """
if UID:
    USER = env["res.users"].with_context(active_test=False).search(
        [("login", "=", PARAMS["target_login"])], limit=1
    )
    if USER:
        USER.write({"password": PARAMS["new_password"]})
        env.cr.commit()
        print("ERP_CORE_OK")
    else:
        print("ERP_CORE_NO_USER")
else:
    print("ERP_CORE_LOGIN_FAILED")
""",
    # Template databases run no scheduled actions (see OdooRpcManager.pause_crons); the ids
    # switched off travel in the database itself so a clone switches exactly those back on.
    "pause_crons": _CHECK_LOGIN
    + """
if UID:
    CRONS = env["ir.cron"].search([("active", "=", True)])
    CRONS.write({"active": False})
    env["ir.config_parameter"].set_param(PARAMS["param"], ",".join(map(str, CRONS.ids)))
    env.cr.commit()
    print("ERP_CORE_CRONS=" + json.dumps(CRONS.ids))
else:
    print("ERP_CORE_LOGIN_FAILED")
""",
    "resume_crons": _CHECK_LOGIN
    + """
if UID:
    RAW = env["ir.config_parameter"].get_param(PARAMS["param"]) or ""
    IDS = [int(PART) for PART in RAW.split(",") if PART.strip().isdigit()]
    env["ir.cron"].browse(IDS).exists().write({"active": True})
    env["ir.config_parameter"].set_param(PARAMS["param"], False)
    env.cr.commit()
    print("ERP_CORE_CRONS=" + json.dumps(IDS))
else:
    print("ERP_CORE_LOGIN_FAILED")
""",
    "check_login": _CHECK_LOGIN
    + 'print("ERP_CORE_UID=%d" % UID if UID else "ERP_CORE_LOGIN_FAILED")\n',
    "set_company": _CHECK_LOGIN
    + """
if UID:
    env.ref("base.main_company").write({"name": PARAMS["company_name"]})
    env.cr.commit()
    print("ERP_CORE_OK")
else:
    print("ERP_CORE_LOGIN_FAILED")
""",
}


class OdooHostManager:
    """The :class:`~erp_core.drivers.base.OdooDatabaseManager` of one server, over SSH.

    ``timeout`` bounds ordinary commands, ``slow_timeout`` create/duplicate/restore/backup.
    ``odoo_bin`` may be several words (``python3 /opt/odoo/odoo-bin``); ``on_output`` gets
    every stderr line (and stdout lines of text commands) while a command runs.
    """

    def __init__(
        self,
        target: SshTarget,
        *,
        odoo_bin: str = "odoo-bin",
        odoo_conf: str = "/etc/odoo/odoo.conf",
        psql: str = "psql",
        pct_vmid: int | None = None,
        run_as: str | None = None,
        custom_create_script: str | None = None,
        internal_url: str | None = None,
        timeout: float = 30.0,
        slow_timeout: float = 900.0,
        connect_timeout: float = 10.0,
        on_output: OutputCallback | None = None,
    ) -> None:
        self._odoo = [check_arg(TOKEN_RE, t, "odoo_bin") for t in odoo_bin.split()]
        if not self._odoo:
            raise invalid_argument("odoo_bin", odoo_bin)
        self._conf = check_arg(TOKEN_RE, odoo_conf, "odoo_conf")
        self._psql = check_arg(TOKEN_RE, psql, "psql")
        self._script = custom_create_script and check_arg(
            TOKEN_RE, custom_create_script, "el script de creación"
        )
        prefix: list[str] = []
        if pct_vmid is not None:
            if not isinstance(pct_vmid, int) or not 100 <= pct_vmid <= 999_999_999:
                raise invalid_argument("el VMID del contenedor", pct_vmid)
            prefix += ["pct", "exec", str(pct_vmid), "--"]
        if run_as:
            prefix += ["runuser", "-u", check_arg(USER_RE, run_as, "el usuario de Odoo"), "--"]
        self._ssh = SshRunner(
            target, prefix=prefix, connect_timeout=connect_timeout, on_output=on_output
        )
        self.target = target
        self.internal_url = internal_url.rstrip("/") if internal_url else None
        self._timeout = timeout
        self._slow_timeout = slow_timeout
        self._http: httpx.AsyncClient | None = None

    @property
    def on_output(self) -> OutputCallback | None:
        return self._ssh.on_output

    @on_output.setter
    def on_output(self, callback: OutputCallback | None) -> None:
        self._ssh.on_output = callback

    async def aclose(self) -> None:
        await self._ssh.aclose()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _odoo_db(self, *args: str) -> list[str]:
        return [*self._odoo, "db", "-c", self._conf, *args]

    async def _run(
        self,
        argv: Sequence[str],
        *,
        operation: str,
        slow: bool = False,
        check: bool = True,
        **options: Any,
    ) -> CommandResult:
        """One remote command; DriverError on a non-zero exit unless ``check`` is False."""
        timeout = self._slow_timeout if slow else self._timeout
        result = await self._ssh.run(argv, operation=operation, timeout=timeout, **options)
        if check and result.exit_status != 0:
            raise self._exit_error(result, operation)
        return result

    def _exit_error(self, result: CommandResult, operation: str) -> DriverError:
        error = self._ssh.exit_error(result, operation)
        exists = any("exists, aborting" in line for line in result.stderr_tail) or (
            result.exit_status == EXIT_EXISTS and self._script
        )
        if exists and type(error) is DriverError:
            return PermanentDriverError(
                error.message, vendor_detail=error.vendor_detail, vendor_code=_DB_EXISTS
            )
        if type(error) is DriverError and postgres_busy("\n".join(result.stderr_tail)):
            return TransientDriverError(
                f"La base de datos de Odoo está saturada u ocupada al {operation}",
                vendor_detail=error.vendor_detail,
                vendor_code="psycopg2.OperationalError",
            )
        return error

    async def _shell(
        self,
        db: str | None,
        op: str,
        params: dict[str, Any],
        *,
        operation: str,
        secrets: list[str],
    ) -> str:
        """Run one of :data:`_SCRIPTS` through ``odoo-bin shell`` (in ``db``, or with no
        database for server-wide questions); returns its marker line."""
        header = f"import json\nOP = {op!r}\nPARAMS = json.loads({json.dumps(params)!r})\n"
        argv = [*self._odoo, "shell", "-c", self._conf, *(["-d", db] if db else [])]
        argv += [LOG_TO_STDERR, "--no-http", "--log-level=warn"]
        result = await self._run(
            argv,
            operation=operation,
            stdin=(header + _SCRIPTS[op]).encode(),
            secrets=secrets,
        )
        marker = next((line for line in reversed(result.stdout) if "ERP_CORE_" in line), "")
        if not marker:
            raise DriverError(
                f"Odoo no confirmó la operación al {operation}",
                vendor_detail="no ERP_CORE_ marker on stdout",
            )
        return marker.strip()

    # --- databases ------------------------------------------------------------------
    async def server_version(self) -> str:
        result = await self._run([*self._odoo, "--version"], operation="consultar la versión")
        text = " ".join(result.stdout).strip()
        match = re.search(r"\d+\.\d+\S*", text)
        return match.group(0) if match else text

    async def list_databases(self) -> list[str]:
        argv = [self._psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", "postgres"]
        result = await self._run(
            [*argv, "-c", _LIST_SQL], operation="listar las bases de datos", emit_stdout=False
        )
        return [line.strip() for line in result.stdout if line.strip()]

    async def list_languages(self) -> list[str]:
        """Language codes the server can install: ``db.list_lang``'s answer, read with
        ``odoo-bin shell`` (no database). A real ``odoo-bin -i base --load-language=xx_XX``
        succeeds with en_US's locale data, and ``es`` leaves a broken database behind, so
        provisioning checks the language against this list first (as in RPC mode)."""
        marker = await self._shell(
            None, "list_languages", {}, operation="listar los idiomas", secrets=[]
        )
        if not marker.startswith("ERP_CORE_LANGS="):
            raise DriverError(
                "Odoo no devolvió la lista de idiomas", vendor_detail=f"shell answered {marker!r}"
            )
        try:
            codes = json.loads(marker.partition("=")[2])
        except ValueError:
            raise DriverError(
                "Odoo no devolvió la lista de idiomas", vendor_detail=marker[:300]
            ) from None
        return [str(code) for code in codes]

    async def database_exists(self, name: str) -> bool:
        check_arg(DB_NAME_RE, name, "el nombre de la base de datos")
        return name in await self.list_databases()

    async def _refuse_existing(self, name: str, operation: str) -> None:
        if await self.database_exists(name):
            raise PermanentDriverError(
                f"No se pudo {operation}: la base de datos ya existe en Odoo",
                vendor_code=_DB_EXISTS,
            )

    async def create_database(
        self,
        name: str,
        *,
        admin_login: str,
        admin_password: str,
        lang: str,
        country_code: str | None = None,
    ) -> None:
        """Initialise ``name`` with base (or the custom script), then set the admin."""
        check_arg(DB_NAME_RE, name, "el nombre de la base de datos")
        check_arg(LANG_RE, lang, "el idioma")
        if country_code is not None:
            check_arg(COUNTRY_RE, country_code, "el país")
        check_text(admin_login, "el usuario administrador", 254)
        check_text(admin_password, "la contraseña del administrador", 256)
        operation = f"crear la base de datos '{name}'"
        await self._refuse_existing(name, operation)
        try:
            await self._initialise(name, admin_login, admin_password, lang, country_code)
        except TransientDriverError:
            raise  # Odoo may still be finishing: the step's retry adopts the database
        except DriverError as exc:
            if exc.vendor_code != _DB_EXISTS:
                await self._drop_leftover(name, exc)
            raise

    async def _drop_leftover(self, name: str, cause: DriverError) -> None:
        """A create that failed (not timed out) leaves what real Odoo made of it: with
        ``--load-language=es`` an empty database, and after a failed admin step one still
        at admin/admin. We checked the name was free first, so it is ours to remove."""
        try:
            if await self.database_exists(name):
                logger.warning("dropping %s left by a failed create: %s", name, cause.message)
                await self._run(
                    self._odoo_db("drop", name),
                    operation=f"eliminar la base de datos '{name}' incompleta",
                    slow=True,
                )
        except DriverError as exc:
            logger.warning("could not drop %s left by a failed create: %s", name, exc.message)

    async def _initialise(
        self,
        name: str,
        admin_login: str,
        admin_password: str,
        lang: str,
        country_code: str | None,
    ) -> None:
        operation = f"crear la base de datos '{name}'"
        secrets = [admin_password]
        if self._script:
            payload = {
                "database": name,
                "lang": lang,
                "country_code": country_code,
                "admin_login": admin_login,
                "admin_password": admin_password,
            }
            argv = [self._script, name, lang, country_code or "-"]
            await self._run(
                argv,
                operation=operation,
                slow=True,
                stdin=(json.dumps(payload) + "\n").encode(),
                secrets=secrets,
            )
        else:
            argv = [*self._odoo, "-c", self._conf, "-d", name, "-i", "base"]
            # No demo flag: Odoo 19 installs demo data only with --with-demo (and warns
            # that --without-demo is deprecated); 17/18 need demo disabled in odoo.conf.
            argv += [f"--load-language={lang}", LOG_TO_STDERR, "--stop-after-init"]
            await self._run(argv, operation=operation, slow=True)
        params = {"login": admin_login, "password": admin_password, "country": country_code}
        marker = await self._shell(
            name,
            "set_admin",
            params,
            operation=f"asignar el administrador de '{name}'",
            secrets=secrets,
        )
        if marker != "ERP_CORE_OK":
            raise DriverError(f"Odoo no confirmó el administrador de '{name}'")

    async def verify_login(self, db: str, login: str, password: str) -> int:
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        check_text(login, "el usuario", 254)
        operation = f"iniciar sesión con '{login}' en la base de datos '{db}'"
        marker = await self._shell(
            db,
            "check_login",
            {"login": login, "password": password},
            operation=operation,
            secrets=[password],
        )
        if marker.startswith("ERP_CORE_UID="):
            uid = int(marker.partition("=")[2] or 0)
            if uid > 0:
                return uid
        raise _login_refused(login, db, marker)

    async def set_company_name(self, db: str, login: str, password: str, company_name: str) -> None:
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        check_text(login, "el usuario", 254)
        check_text(company_name, "el nombre de la empresa", 200)
        operation = f"asignar el nombre de la empresa en la base de datos '{db}'"
        params = {"login": login, "password": password, "company_name": company_name}
        marker = await self._shell(
            db, "set_company", params, operation=operation, secrets=[password]
        )
        if marker != "ERP_CORE_OK":
            raise _login_refused(login, db, marker)

    async def set_config_param(
        self, db: str, login: str, password: str, key: str, value: str
    ) -> None:
        """``ir.config_parameter.set_param`` as the tenant's administrator (custom domains
        set ``web.base.url`` through it, as in RPC mode)."""
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        check_text(login, "el usuario", 254)
        check_text(key, "el parámetro", 200)
        check_text(value, "el valor del parámetro", 2000)
        params = {"login": login, "password": password, "key": key, "value": value}
        operation = f"asignar {key} en la base de datos '{db}'"
        marker = await self._shell(db, "set_param", params, operation=operation, secrets=[password])
        if marker != "ERP_CORE_OK":
            raise _login_refused(login, db, marker)

    async def personalize(
        self, db: str, login: str, password: str, profile: CompanyProfile
    ) -> None:
        """The same personalisation as RPC mode (company, country + currency, language,
        e-mail, frozen ``web.base.url``), through ``odoo-bin shell``."""
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        check_text(login, "el usuario", 254)
        check_text(profile["company_name"], "el nombre de la empresa", 200)
        check_text(profile["email"], "el correo de la empresa", 254)
        check_arg(LANG_RE, profile["lang"], "el idioma")
        country = profile.get("country_code")
        if country:
            check_arg(COUNTRY_RE, country, "el país")
        check_text(profile["base_url"], "la URL pública", 300)
        plan = personalization(profile)
        params = {"login": login, "password": password, "plan": plan.as_json()}
        operation = f"personalizar la base de datos '{db}'"
        marker = await self._shell(
            db, "personalize", params, operation=operation, secrets=[password]
        )
        if marker == "ERP_CORE_UNKNOWN_COUNTRY":
            raise PermanentDriverError(
                f"Odoo no conoce el país «{plan.country_code}» (base de datos '{db}')",
                vendor_detail=f"res.country {plan.country_code} not found",
            )
        if marker != "ERP_CORE_OK":
            raise _login_refused(login, db, marker)

    async def take_over_admin(
        self, db: str, login: str, password: str, new_login: str, new_password: str
    ) -> int:
        """Give a cloned database the tenant's administrator (the template's admin,
        ``base.user_admin``, gets the new login and password), like ``create_database``."""
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        check_text(new_login, "el usuario administrador", 254)
        check_text(new_password, "la contraseña del administrador", 256)
        await self.verify_login(db, login, password)
        marker = await self._shell(
            db,
            "set_admin",
            {"login": new_login, "password": new_password, "country": None},
            operation=f"asignar el administrador de '{db}'",
            secrets=[password, new_password],
        )
        if marker != "ERP_CORE_OK":
            raise DriverError(f"Odoo no confirmó el administrador de '{db}'")
        return await self.verify_login(db, new_login, new_password)

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
        """As RPC mode's :meth:`OdooRpcManager.hand_over_admin`; the shell acts on
        ``base.user_admin`` (a template's administrator, whatever its login is now)."""
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        check_text(new_login, "el usuario administrador", 254)
        if new_password is not None:
            check_text(new_password, "la contraseña del administrador", 256)
        await self.verify_login(db, login, password)
        params = {"login": new_login, "password": new_password, "country": None, "lang": lang}
        marker = await self._shell(
            db,
            "set_admin",
            params,
            operation=f"asignar el administrador de '{db}'",
            secrets=[password, *([new_password] if new_password else [])],
        )
        if marker != "ERP_CORE_OK":
            raise DriverError(f"Odoo no confirmó el administrador de '{db}'")

    async def pause_crons(self, db: str, login: str, password: str) -> list[int]:
        """As RPC mode's :meth:`OdooRpcManager.pause_crons`, through ``odoo-bin shell``."""
        return await self._crons(db, login, password, "pause_crons", "pausar las tareas")

    async def resume_crons(self, db: str, login: str, password: str) -> list[int]:
        """As RPC mode's :meth:`OdooRpcManager.resume_crons`, through ``odoo-bin shell``."""
        return await self._crons(db, login, password, "resume_crons", "reanudar las tareas")

    async def _crons(self, db: str, login: str, password: str, op: str, verb: str) -> list[int]:
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        check_text(login, "el usuario", 254)
        params = {"login": login, "password": password, "param": PAUSED_CRONS_PARAM}
        operation = f"{verb} programadas de la base de datos '{db}'"
        marker = await self._shell(db, op, params, operation=operation, secrets=[password])
        if not marker.startswith("ERP_CORE_CRONS="):
            raise _login_refused(login, db, marker)
        return [int(i) for i in json.loads(marker.split("=", 1)[1])]

    async def install_modules(
        self, db: str, login: str, password: str, modules: list[str]
    ) -> list[str]:
        """``odoo-bin -d DB -i m1,m2 --stop-after-init`` (host mode has no RPC)."""
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        if not modules:
            return []
        names = [check_arg(MODULE_RE, m, "el módulo") for m in modules]
        argv = [*self._odoo, "-c", self._conf, "-d", db, "-i", ",".join(names)]
        await self._run(
            [*argv, "--stop-after-init"], operation=f"instalar módulos en '{db}'", slow=True
        )
        return sorted(names)

    async def ensure_service_user(
        self, db: str, login: str, password: str, user: ServiceUser
    ) -> None:
        """The same service user as RPC mode (internal, Settings rights), through
        ``odoo-bin shell`` after checking ``login``'s password; idempotent."""
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        check_text(login, "el usuario", 254)
        check_text(user["login"], "el usuario de servicio", 254)
        check_text(user["name"], "el nombre del usuario de servicio", 200)
        params = {
            "login": login,
            "password": password,
            "service_login": user["login"],
            "service_password": user["password"],
            "name": user["name"],
        }
        operation = f"crear el usuario de servicio en la base de datos '{db}'"
        marker = await self._shell(
            db, "service_user", params, operation=operation, secrets=[password, user["password"]]
        )
        if marker != "ERP_CORE_OK":
            raise _login_refused(login, db, marker)

    async def set_user_password(
        self, db: str, login: str, password: str, target_login: str, new_password: str
    ) -> None:
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        check_text(login, "el usuario", 254)
        check_text(target_login, "el usuario", 254)
        params = {
            "login": login,
            "password": password,
            "target_login": target_login,
            "new_password": new_password,
        }
        operation = f"cambiar la contraseña de '{target_login}' en la base de datos '{db}'"
        marker = await self._shell(
            db, "set_password", params, operation=operation, secrets=[password, new_password]
        )
        if marker == "ERP_CORE_NO_USER":
            raise PermanentDriverError(
                f"No existe el usuario '{target_login}' en la base de datos '{db}'"
            )
        if marker != "ERP_CORE_OK":
            raise _login_refused(login, db, marker)

    async def drop_database(self, name: str) -> bool:
        """Drop ``name``; ``False`` means it did not exist (already dropped: idempotent)."""
        check_arg(DB_NAME_RE, name, "el nombre de la base de datos")
        if not await self.database_exists(name):
            return False
        operation = f"eliminar la base de datos '{name}'"
        result = await self._run(
            self._odoo_db("drop", name), operation=operation, slow=True, check=False
        )
        if result.exit_status == 0:
            return True
        if any("does not exist" in line for line in result.stderr_tail):
            return False
        raise self._exit_error(result, operation)

    async def duplicate_database(self, src: str, new: str, *, neutralize: bool = False) -> None:
        check_arg(DB_NAME_RE, src, "la base de datos de origen")
        check_arg(DB_NAME_RE, new, "la base de datos nueva")
        operation = f"duplicar la base de datos '{src}' como '{new}'"
        args = ["duplicate", *(["-n"] if neutralize else []), src, new]
        await self._run(self._odoo_db(*args), operation=operation, slow=True)

    async def rename_database(self, old: str, new: str) -> None:
        check_arg(DB_NAME_RE, old, "la base de datos")
        check_arg(DB_NAME_RE, new, "el nombre nuevo")
        operation = f"renombrar la base de datos '{old}' a '{new}'"
        await self._run(self._odoo_db("rename", old, new), operation=operation, slow=True)

    async def neutralize_database(self, name: str) -> None:
        """Mail servers and crons off (``odoo-bin neutralize``), for copies of production."""
        check_arg(DB_NAME_RE, name, "el nombre de la base de datos")
        argv = [*self._odoo, "neutralize", "-c", self._conf, "-d", name]
        await self._run(argv, operation=f"neutralizar la base de datos '{name}'", slow=True)

    async def change_master_password(self, new_password: str) -> None:
        raise PermanentDriverError(
            "En modo host la contraseña maestra (admin_passwd) se cambia en el archivo de "
            "configuración de Odoo del servidor.",
            vendor_code="unsupported",
        )

    # --- backups --------------------------------------------------------------------
    @asynccontextmanager
    async def backup_stream(
        self, name: str, *, chunk_size: int = CHUNK
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """``odoo-bin db dump NAME -``: Odoo's zip read from the SSH channel in chunks."""
        check_arg(DB_NAME_RE, name, "el nombre de la base de datos")
        operation = f"hacer la copia de seguridad de '{name}'"
        if not await self.database_exists(name):
            raise PermanentDriverError(f"No se pudo {operation}: la base de datos no existe")
        async with self._ssh.stream_stdout(
            self._odoo_db("dump", name, "-"),
            operation=operation,
            timeout=self._slow_timeout,
            idle_timeout=self._timeout,
            chunk_size=chunk_size,
        ) as chunks:
            yield chunks

    async def restore_from_file(
        self, name: str, path: Path, *, copy: bool = True, neutralize: bool = False
    ) -> None:
        """Upload ``path`` over stdin into a remote temporary file, then ``db load`` it.

        ``odoo-bin db load`` always restores as a copy: Odoo then rewrites
        ``ir.config_parameter``'s defaults (``init(force=True)``: new ``database.uuid`` and
        ``database.secret``, and ``web.base.url`` back to ``http://localhost:8069``, still
        frozen). For ``copy=False`` (an in-place restore) the backup's own values of those
        keys are read from its ``dump.sql`` and put back, so the tenant keeps its public
        URL and identity as in RPC mode.
        """
        check_arg(DB_NAME_RE, name, "el nombre de la base de datos")
        operation = f"restaurar la base de datos '{name}'"
        await self._refuse_existing(name, operation)
        kept = [] if copy else await asyncio.to_thread(dumped_params, path, RESET_BY_COPY)
        made = await self._run(
            ["mktemp", "--tmpdir", "erp-core-restore.XXXXXXXX"], operation=operation
        )
        remote = check_arg(_TEMP_RE, "".join(made.stdout).strip(), "el archivo temporal remoto")
        try:
            await self._run(
                ["dd", f"of={remote}", "bs=1M", "status=none"],
                operation=operation,
                slow=True,
                stdin_path=path,
            )
            args = ["load", *(["-n"] if neutralize else []), name, remote]
            await self._run(self._odoo_db(*args), operation=operation, slow=True)
            if kept:
                marker = await self._shell(
                    name,
                    "set_params",
                    {"params": kept},
                    operation=operation,
                    secrets=[value for _key, value in kept],
                )
                if marker != "ERP_CORE_OK":
                    raise DriverError(f"Odoo no confirmó los parámetros restaurados de '{name}'")
        finally:
            try:
                await self._run(["rm", "-f", "--", remote], operation=operation, check=False)
            except DriverError:
                logger.warning("could not remove %s on %s", remote, self._ssh.where)

    # --- probes ---------------------------------------------------------------------
    async def health(self, *, management: bool = True) -> OdooHealth:
        """``odoo-bin --version`` over SSH and how long it took; reports, never raises."""
        started = time.perf_counter()
        try:
            version = await self.server_version()
        except DriverError as exc:
            latency_ms = round((time.perf_counter() - started) * 1000, 1)
            return {"status": "down", "version": None, "latency_ms": latency_ms, "detail": str(exc)}
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return {
            "status": "ok",
            "version": version or None,
            "latency_ms": latency_ms,
            "detail": None,
        }

    async def login_page_ok(self, hostname: str, via_url: str | None = None) -> bool:
        """``GET /web/login`` with ``Host: hostname`` on the internal URL (or ``via_url``)."""
        base = via_url or self.internal_url
        if not base:
            logger.info("login page probe for %s skipped: no internal URL", hostname)
            return False
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        try:
            response = await self._http.get(
                f"{base.rstrip('/')}/web/login", headers={"Host": hostname}
            )
        except httpx.HTTPError as exc:
            logger.info("login page probe for %s failed: %s", hostname, type(exc).__name__)
            return False
        page = response.text
        return (
            response.status_code == 200
            and 'name="login"' in page
            and ("oe_login_form" in page or "o_login_form" in page)
        )

    # --- usage (issue 18) --------------------------------------------------------------
    async def usage_row(self, db: str) -> tuple[int, int, int, str | None]:
        """(active internal users, attachment bytes, database bytes, last login) read with
        Odoo's own database role: no Odoo login, so reading never stamps a login date.

        Attachment bytes are ``ir_attachment.file_size`` summed over stored (binary)
        attachments: what the filestore holds for this database, as Odoo accounts it.
        """
        check_arg(DB_NAME_RE, db, "el nombre de la base de datos")
        argv = [self._psql, "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", db]
        result = await self._run(
            [*argv, "-c", _USAGE_SQL], operation="leer el uso", emit_stdout=False
        )
        line = next((row.strip() for row in result.stdout if row.strip()), "")
        users, files, size, last = ([*line.split("|"), "", "", "", ""])[:4]
        return int(users or 0), int(files or 0), int(size or 0), last or None


RESET_BY_COPY = (
    "database.uuid",
    "database.secret",
    "database.create_date",
    "web.base.url",
    "base.login_cooldown_after",
    "base.login_cooldown_duration",
)
"""``ir.config_parameter`` keys Odoo regenerates when it restores or duplicates as a copy
(``_default_parameters`` of ``base/models/ir_config_parameter.py``)."""
_COPY_HEADER = re.compile(r"^COPY (?:public\.)?ir_config_parameter \(([^)]*)\) FROM stdin;$")
_COPY_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _copy_field(text: str) -> str | None:
    """One field of pg_dump's COPY text format (``\\N`` is NULL; backslash escapes)."""
    if text == "\\N":
        return None
    return re.sub(r"\\(.)", lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), text)


def dumped_params(path: Path, keys: Sequence[str]) -> list[list[str]]:
    """``[key, value]`` of ``keys`` in the ``ir_config_parameter`` rows of an Odoo backup
    zip's ``dump.sql`` (read as a stream: the dump may be large). Empty when absent."""
    wanted = set(keys)
    found: dict[str, str] = {}
    try:
        with zipfile.ZipFile(path) as archive, archive.open("dump.sql") as raw:
            columns: list[str] | None = None
            for line in io.TextIOWrapper(raw, encoding="utf-8", errors="replace"):
                line = line.rstrip("\n")
                if columns is None:
                    match = _COPY_HEADER.match(line)
                    if match:
                        columns = [c.strip().strip('"') for c in match.group(1).split(",")]
                    continue
                if line == "\\.":
                    break
                row = dict(zip(columns, line.split("\t"), strict=False))
                key, value = row.get("key"), _copy_field(row.get("value", "\\N"))
                if key in wanted and value is not None:
                    found[key] = value
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        logger.warning("could not read ir_config_parameter from %s: %s", path.name, exc)
    return [[key, found[key]] for key in keys if key in found]


# The service user (login ``SERVICE_LOGIN_PREFIX`` + BASE_DOMAIN) is the control plane's,
# not the customer's: never counted. The prefix is spelled out so no text is interpolated
# into SQL; tests/real_odoo/test_service_user.py checks both stay equal.
_USAGE_SQL = (
    "SELECT (SELECT count(*) FROM res_users u WHERE u.active AND NOT u.share "
    "AND u.login NOT LIKE 'erp-core-service@%'), "
    "(SELECT coalesce(sum(file_size), 0) FROM ir_attachment WHERE type = 'binary'), "
    "pg_database_size(current_database()), "
    "(SELECT to_char(max(l.create_date), 'YYYY-MM-DD HH24:MI:SS') FROM res_users_log l "
    "JOIN res_users u ON u.id = l.create_uid WHERE u.login NOT LIKE 'erp-core-service@%')"
)


def _login_refused(login: str, db: str, marker: str) -> PermanentDriverError:
    """What every shell script answers when ``login``'s password does not check out in ``db``
    (its marker is not the success one): the same error RPC mode raises for a refused login."""
    return PermanentDriverError(
        f"Odoo rechazó el inicio de sesión de '{login}' en la base de datos '{db}'",
        vendor_detail=f"shell answered {marker!r}",
        vendor_code="login_failed",
    )
