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

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from erp_core.drivers.base import (
    CompanyProfile,
    DriverError,
    OdooHealth,
    PermanentDriverError,
    ServiceUser,
)
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

DB_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
LANG_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2}|_\d{3})?(@[A-Za-z]+)?$")  # es_419, sr@Cyrl
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_TEMP_RE = re.compile(r"^/[A-Za-z0-9_./-]+$")
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
    "set_admin": """
ADMIN = env.ref("base.user_admin")
ADMIN.write({"login": PARAMS["login"], "password": PARAMS["password"]})
if PARAMS.get("country"):
    COUNTRY = env["res.country"].search([("code", "=", PARAMS["country"])], limit=1)
    if COUNTRY:
        env.ref("base.main_company").country_id = COUNTRY.id
env.cr.commit()
print("ERP_CORE_OK")
""",
    "personalize": _CHECK_LOGIN
    + """
if UID:
    COMPANY = env.ref("base.main_company")
    VALUES = {"name": PARAMS["company_name"], "email": PARAMS["email"]}
    if PARAMS.get("country"):
        COUNTRY = env["res.country"].search([("code", "=", PARAMS["country"])], limit=1)
        if not COUNTRY:
            print("ERP_CORE_UNKNOWN_COUNTRY")
            raise SystemExit(0)
        VALUES["country_id"] = COUNTRY.id
        if COUNTRY.currency_id:
            COUNTRY.currency_id.active = True
            VALUES["currency_id"] = COUNTRY.currency_id.id
    COMPANY.write(VALUES)
    env["res.users"].browse(UID).write({"lang": PARAMS["lang"]})
    env["ir.config_parameter"].set_param("web.base.url", PARAMS["base_url"])
    env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
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
        return error

    async def _shell(
        self, db: str, op: str, params: dict[str, Any], *, operation: str, secrets: list[str]
    ) -> str:
        """Run one of :data:`_SCRIPTS` through ``odoo-bin shell``; returns its marker line."""
        header = f"import json\nOP = {op!r}\nPARAMS = json.loads({json.dumps(params)!r})\n"
        argv = [*self._odoo, "shell", "-c", self._conf, "-d", db, "--no-http", "--log-level=warn"]
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
            argv += [f"--load-language={lang}", "--stop-after-init"]
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
        raise PermanentDriverError(
            f"Odoo rechazó el inicio de sesión de '{login}' en la base de datos '{db}'",
            vendor_detail=f"shell answered {marker!r}",
            vendor_code="login_failed",
        )

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
            raise PermanentDriverError(
                f"Odoo rechazó el inicio de sesión de '{login}' en la base de datos '{db}'",
                vendor_detail=f"shell answered {marker!r}",
                vendor_code="login_failed",
            )

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
        params = {
            "login": login,
            "password": password,
            "company_name": profile["company_name"],
            "email": profile["email"],
            "country": country,
            "lang": profile["lang"],
            "base_url": profile["base_url"],
        }
        operation = f"personalizar la base de datos '{db}'"
        marker = await self._shell(
            db, "personalize", params, operation=operation, secrets=[password]
        )
        if marker == "ERP_CORE_UNKNOWN_COUNTRY":
            raise PermanentDriverError(f"Odoo no conoce el país «{country}» (base de datos '{db}')")
        if marker != "ERP_CORE_OK":
            raise PermanentDriverError(
                f"Odoo rechazó el inicio de sesión de '{login}' en la base de datos '{db}'",
                vendor_detail=f"shell answered {marker!r}",
                vendor_code="login_failed",
            )

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
            raise PermanentDriverError(
                f"Odoo rechazó el inicio de sesión de '{login}' en la base de datos '{db}'",
                vendor_detail=f"shell answered {marker!r}",
                vendor_code="login_failed",
            )

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
            raise PermanentDriverError(
                f"Odoo rechazó el inicio de sesión de '{login}' en la base de datos '{db}'",
                vendor_detail=f"shell answered {marker!r}",
                vendor_code="login_failed",
            )

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

        ``odoo-bin db load`` always restores as a copy (new database UUID): ``copy=False``
        cannot be honoured in host mode.
        """
        check_arg(DB_NAME_RE, name, "el nombre de la base de datos")
        operation = f"restaurar la base de datos '{name}'"
        if not copy:
            logger.info("host mode restores %s as a copy (odoo-bin db load always does)", name)
        await self._refuse_existing(name, operation)
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
