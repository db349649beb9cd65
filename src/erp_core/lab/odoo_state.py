"""The Odoo lab's state: databases, users, filestore, and Odoo-format backup zips.

Split from ``lab/odoo.py`` (the HTTP routes); every public name stays importable from there.
A database may also hold *large files*: incompressible filestore entries generated on the fly
while a backup is written (a seed and a size, never the bytes), so a test can back up
hundreds of megabytes without the emulator holding them in memory.
"""

from __future__ import annotations

import copy as copy_module
import hashlib
import json
import random
import re
import threading
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

__all__ = [
    "LabDatabase",
    "OdooFault",
    "OdooLabState",
    "database_from_zip",
    "dump_sql",
    "large_file_chunks",
    "write_backup_zip",
]

FOREIGN_DATABASES = frozenset({"postgres"})
"""Databases of the emulated PostgreSQL cluster that this Odoo does not own."""
LANGUAGES = (
    ("en_US", "English (US)"),
    ("es_ES", "Spanish / Español"),
    ("es_MX", "Spanish (MX) / Español (MX)"),
    ("es_419", "Spanish (Latin America) / Español (América Latina)"),
    ("pt_BR", "Portuguese (BR) / Português (BR)"),
    ("fr_FR", "French / Français"),
)
"""``db.list_lang`` of the emulator: full locale codes only, like Odoo (no bare ``es``)."""
COUNTRIES = {"DO": "DOP", "ES": "EUR", "US": "USD", "MX": "MXN", "CO": "COP", "PE": "PEN"}
"""Countries the emulator knows, with the currency Odoo gives each."""

_DBNAME = re.compile(
    r"^([a-zA-Z0-9]|__tpl_|__spare_)[a-zA-Z0-9_.-]+$"
)  # issue 15: templates, spares
_ACCESS_DENIED = "odoo.exceptions.AccessDenied"


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
    db_secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    web_base_url: str = "http://localhost:8069"
    company_email: str | None = None
    currency: str = "USD"
    inactive_uids: set[int] = field(default_factory=set)
    neutralized: bool = False
    initialized: bool = True
    users: dict[int, tuple[str, str]] = field(default_factory=dict)  # uid -> (login, hash)
    filestore: dict[str, bytes] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    module_ids: dict[str, int] = field(default_factory=dict)  # ir.module.module ids handed out
    large_files: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (size, seed)
    config_params: dict[str, str] = field(default_factory=dict)  # ir.config_parameter
    login_dates: dict[int, str] = field(default_factory=dict)  # uid -> "YYYY-MM-DD HH:MM:SS"
    # ir.cron id -> active: base ships some scheduled actions on and some off
    crons: dict[int, bool] = field(default_factory=lambda: {1: True, 2: True, 3: False})


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

    def db_exist(self, name: str) -> bool:
        """Odoo's ``db_exist`` connects to the name: any database of the PostgreSQL cluster
        answers true, even one owned by another role that ``list`` never shows."""
        return self.exists(name) or name in FOREIGN_DATABASES

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

    def reserve(self, name: str, *, check_name: bool = True) -> None:
        """Claim a name before slow work, so a concurrent create sees it as taken.

        ``check_name=False`` for ``db.rename``: Odoo's RPC rename (``exp_rename``) quotes
        the new name and never applies the web manager's DBNAME_PATTERN, so ``__susp_…``
        (a suspended tenant's database) is accepted there and only there."""
        if check_name and not _DBNAME.match(name):
            raise OdooFault("odoo.exceptions.UserError", f"Invalid database name {name!r}")
        with self.lock:
            # The cluster's other databases (FOREIGN_DATABASES) block the name too:
            # PostgreSQL refuses CREATE/ALTER ... RENAME onto any existing database.
            if name in self.databases or name in self._reserved or name in FOREIGN_DATABASES:
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

    def add_large_file(self, name: str, path: str, size: int, seed: int = 0) -> None:
        """Give database ``name`` a generated filestore entry of ``size`` bytes."""
        db = self.get(name)
        with self.lock:
            db.large_files[path] = (size, seed)

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
        valid_lang = lang in {code for code, _ in LANGUAGES}
        # Odoo's _initialize_db catches every error and create_database still answers true:
        # a bad language leaves an uninitialised database (no models at all); an unknown
        # country fails after base is installed, before the admin is written, so the
        # database is left with admin/admin.
        initialized = initialized and valid_lang
        if initialized and country_code and country_code.upper() not in COUNTRIES:
            self.add_database(name, lang=lang)  # admin/admin: Odoo's own default
            return
        db = self.add_database(
            name, login=login, password=password, lang=lang, initialized=initialized
        )
        if not initialized:
            return
        db.country_code = country_code.upper() if country_code else None
        if country_code:
            db.currency = COUNTRIES[country_code.upper()]
        if "@" in login:
            db.company_email = login
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
        # Odoo's duplicate_database re-inits ir.config_parameter (force): new uuid, new secret.
        clone.name, clone.db_uuid, clone.db_secret = new, str(uuid.uuid4()), str(uuid.uuid4())
        clone.neutralized = clone.neutralized or neutralize
        self.install(clone)
        return True

    def drop(self, name: str) -> bool:
        with self.lock:
            return self.databases.pop(name, None) is not None

    def rename(self, old: str, new: str) -> bool:
        db = self.get(old)
        self.reserve(new, check_name=False)
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
        if not db.initialized:
            raise OdooFault("builtins.KeyError", "res.users")  # no model is registered
        for uid, (user_login, pw_hash) in db.users.items():
            if (
                user_login == login
                and pw_hash == _hash(password)
                and uid != 1
                and uid not in db.inactive_uids
            ):
                db.login_dates[uid] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
                return uid
        return False

    def _modules_answer(self, db: LabDatabase, method: str, args: list[Any]) -> Any:
        """``ir.module.module``: every module name is known (the lab has no addons path);
        ``button_immediate_install`` installs the ids a ``search_read`` handed out."""
        names = sorted({"base", "web", *db.modules})
        if method == "search_read":
            wanted: list[str] = names
            only_installed = False
            for term in args[0] if args else []:
                if isinstance(term, list | tuple) and term[0] == "name" and term[1] == "in":
                    wanted = [str(n) for n in term[2]]
                if isinstance(term, list | tuple) and term[0] == "state":
                    only_installed = True
            with self.lock:
                for name in wanted:
                    db.module_ids.setdefault(name, len(db.module_ids) + 1)
                rows = [
                    {
                        "id": db.module_ids[name],
                        "name": name,
                        "state": "installed"
                        if name in ("base", "web") or name in db.modules
                        else "uninstalled",
                    }
                    for name in wanted
                ]
            return [r for r in rows if not only_installed or r["state"] == "installed"]
        if method == "button_immediate_install":
            by_id = {v: k for k, v in db.module_ids.items()}
            with self.lock:
                for module_id in args[0]:
                    if int(module_id) in by_id:
                        db.modules[by_id[int(module_id)]] = f"{self.version}.1.0"
            return {"type": "ir.actions.client", "tag": "reload"}
        raise OdooFault("odoo.exceptions.UserError", f"ir.module.module.{method} not in the lab")

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
        codes = sorted(COUNTRIES)
        if model == "res.country" and method == "search_read":
            wanted_code = next(
                (t[2] for t in args[0] if isinstance(t, list | tuple) and t[0] == "code"), None
            )
            return [
                {"id": codes.index(code) + 1, "currency_id": [codes.index(code) + 1, cur]}
                for code, cur in COUNTRIES.items()
                if wanted_code is None or code == str(wanted_code).upper()
            ]
        if model == "res.currency" and method == "write":
            return True
        if model == "ir.model.data" and method == "search_read":
            names: list[str] = next((t[2] for t in args[0] if t[0] == "name"), [])
            return [
                {"id": _GROUPS[n], "name": n, "res_id": _GROUPS[n]} for n in names if n in _GROUPS
            ]
        if model == "res.users" and method == "fields_get":
            return {"group_ids": {"type": "many2many"}}  # Odoo 19's name
        if model == "res.users" and method == "search":
            with self.lock:
                candidates = [(u, login) for u, (login, _h) in db.users.items() if u != 1]
            return [u for u, login in candidates if _login_matches(login, args[0] if args else [])]
        if model == "res.users" and method == "create":
            with self.lock:
                created = []
                for values in args[0]:
                    if any(login == values["login"] for login, _h in db.users.values()):
                        raise OdooFault(
                            "psycopg2.errors.UniqueViolation", "duplicate key value (login)"
                        )
                    new_uid = max(db.users, default=1) + 1
                    db.users[new_uid] = (str(values["login"]), _hash(str(values["password"])))
                    created.append(new_uid)
            return created
        if model == "res.users" and method == "write":
            with self.lock:
                for target in args[0]:
                    if "password" in args[1] and int(target) in db.users:
                        db.users[int(target)] = (
                            db.users[int(target)][0],
                            _hash(str(args[1]["password"])),
                        )
                    if "active" in args[1]:
                        if args[1]["active"]:
                            db.inactive_uids.discard(int(target))
                        else:
                            db.inactive_uids.add(int(target))
                    if "lang" in args[1] and int(target) == int(uid):
                        db.lang = str(args[1]["lang"])
                    if ("login" in args[1] or "password" in args[1]) and int(target) in db.users:
                        # A clone's new administrator (issue 15): login and password.
                        login_, hashed = db.users[int(target)]
                        db.users[int(target)] = (
                            str(args[1].get("login", login_)),
                            _hash(str(args[1]["password"])) if "password" in args[1] else hashed,
                        )
            return True
        if model == "ir.module.module":
            return self._modules_answer(db, method, args)
        if model == "res.company":
            record = {
                "id": 1,
                "name": db.company_name,
                "email": db.company_email or False,
                "country_id": [codes.index(db.country_code) + 1, db.country_code]
                if db.country_code in COUNTRIES
                else False,
                "currency_id": [1, db.currency],
            }
            if method == "write" and list(args[0]) == [1]:
                values = dict(args[1])
                db.company_name = str(values.get("name", db.company_name))
                db.company_email = values.get("email", db.company_email)
                if values.get("country_id"):
                    db.country_code = codes[int(values["country_id"]) - 1]
                    db.currency = COUNTRIES[db.country_code]
                return True
            if method in ("read", "search_read"):
                wanted = kwargs.get("fields") or (args[1] if len(args) > 1 else None)
                return [{k: v for k, v in record.items() if not wanted or k in (*wanted, "id")}]
        if model == "ir.cron" and method == "search":
            wanted = next((t[2] for t in args[0] if t[0] == "active"), None) if args else None
            with self.lock:
                return [i for i, on in sorted(db.crons.items()) if wanted is None or on == wanted]
        if model == "ir.cron" and method == "write":
            with self.lock:
                for target in args[0]:
                    if int(target) in db.crons and "active" in args[1]:
                        db.crons[int(target)] = bool(args[1]["active"])
            return True
        if model == "ir.config_parameter" and method in ("set_param", "get_param"):
            key = str(args[0])
            previous = db.config_params.get(key, False)
            if method == "set_param" and args[1] in (False, None):
                db.config_params.pop(key, None)  # Odoo deletes the parameter
            elif method == "set_param":
                db.config_params[key] = str(args[1])
                if key == "web.base.url":
                    db.web_base_url = str(args[1])
            elif key == "web.base.url":
                return db.web_base_url
            return previous
        if model == "res.users" and method == "search_read":
            wanted = kwargs.get("fields") or ["login"]  # real Odoo: every field; lab: login
            users = [(uid_, login) for uid_, (login, _) in db.users.items() if uid_ != 1]
            users = [
                (uid_, login)
                for uid_, login in users
                if _login_matches(login, args[0] if args else [])
            ]
            full = [
                {"id": uid_, "login": login, "login_date": db.login_dates.get(uid_, False)}
                for uid_, login in users
            ]
            rows = [{k: v for k, v in row.items() if k == "id" or k in wanted} for row in full]
            return rows
        usage = _usage_answer(db, model, method, args, kwargs)
        if usage is not _NO_ANSWER:
            return usage
        raise OdooFault(
            "odoo.exceptions.UserError",
            f"The method '{method}' does not exist on the model '{model}' in the lab",
        )


_NO_ANSWER = object()
_GROUPS = {"group_user": 1, "group_system": 4}  # base.group_* ids as a fresh Odoo 19 has them


def _login_matches(login: str, domain: Any) -> bool:
    """The ``login`` terms of a res.users domain (``=``, ``!=``, ``in``, ``not in``); the
    lab ignores every other term (all its users are active internal users)."""
    for term in domain if isinstance(domain, list) else []:
        if not isinstance(term, list | tuple) or len(term) != 3 or term[0] != "login":
            continue
        op, value = term[1], term[2]
        if (
            (op == "=" and login != value)
            or (op == "!=" and login == value)
            or (op == "in" and login not in value)
            or (op == "not in" and login in value)
        ):
            return False
    return True


def _usage_answer(
    db: LabDatabase, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
) -> Any:
    """The object calls the usage reader makes (issue 18), answered as Odoo 19 would.

    Uid 1 is ``__system__`` (inactive in real Odoo, so never counted); every other lab user
    is an active internal user. ``login_date`` is the last ``common.login``/web login;
    ``ir.attachment`` ``file_size:sum`` is the sum of the filestore entries' sizes.
    """
    internal = [
        uid
        for uid, (login, _h) in db.users.items()
        if uid != 1 and _login_matches(login, args[0] if args else [])
    ]
    if model == "res.users" and method == "search_count":
        return len(internal)
    if model == "ir.attachment" and method == "read_group":
        total = sum(len(blob) for blob in db.filestore.values())
        total += sum(size for size, _seed in db.large_files.values())
        count = len(db.filestore) + len(db.large_files)
        return [{"__count": count, "file_size": total, "__domain": []}]
    return _NO_ANSWER


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
                ["database.secret", db.db_secret],
                ["web.base.url", db.web_base_url],
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


def large_file_chunks(size: int, seed: int, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Deterministic incompressible bytes, produced a chunk at a time."""
    rng = random.Random(seed)  # test data, not a secret
    left = size
    while left > 0:
        step = min(chunk_size, left)
        yield rng.randbytes(step)
        left -= step


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
        for path, (size, seed) in db.large_files.items():
            info = zipfile.ZipInfo(f"filestore/{path}")
            info.compress_type = zipfile.ZIP_STORED  # random bytes do not compress
            with archive.open(info, "w", force_zip64=True) as entry:
                for chunk in large_file_chunks(size, seed):
                    entry.write(chunk)
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
    # A copy re-inits every default parameter, as Odoo's restore_db(copy=True) does.
    db.db_secret = str(uuid.uuid4()) if copy else params.get("database.secret") or str(uuid.uuid4())
    db.web_base_url = (
        "http://localhost:8069" if copy else params.get("web.base.url") or db.web_base_url
    )
    return db
