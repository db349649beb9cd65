"""Lab stand-ins for ``pct``, ``odoo-bin`` and ``psql`` (standard library only).

The scripts in ``bin/`` import this module and call one ``main_*`` function. They run on the
far side of a real SSH connection, so they must not import ``erp_core`` (the remote Python
may not have it). State lives in ``$LAB_ODOO_STATE_DIR``:

- ``dbs/<name>/meta.json`` and ``dbs/<name>/filestore/`` — one Odoo database each;
- ``lxc/<vmid>.conf`` — containers that ``pct exec`` accepts;
- ``invocations.jsonl`` — every invocation (tool and argv), so tests can prove nothing ran;
- ``faults.json`` — ``{"odoo-bin db dump": {"sleep": 30}, "psql": {"exit": 1, "stderr": "…"}}``
  (optional ``"times": n``) to make a command hang or fail.

Arguments, messages and exit codes follow the real commands (Odoo 17–19 ``odoo/cli/*.py``,
``pct``, ``psql``) closely enough for the driver to be tested against them.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import signal
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

STATE_ENV = "LAB_ODOO_STATE_DIR"
DEFAULT_VERSION = "18.0"
_CHUNK = 64 * 1024
_DB_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
LANGUAGES = frozenset(
    {"en_US", "es_ES", "es_DO", "es_MX", "es_419", "es_AR", "es_CO", "pt_BR", "fr_FR"}
)
"""What the stand-in's ``scan_languages()`` knows: full locale codes, like Odoo (no ``es``)."""
_PG_SOCKET = '"/var/run/postgresql/.s.PGSQL.5432"'


class State:
    """The stand-ins' shared state directory, with an exclusive lock for mutations."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dbs = root / "dbs"
        self.dbs.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls) -> State:
        root = os.environ.get(STATE_ENV)
        if not root:
            _die(f"{STATE_ENV} is not set: the lab stand-ins need a state directory", 127)
        return cls(Path(root))

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with (self.root / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def log_invocation(self, tool: str, argv: list[str]) -> None:
        line = json.dumps({"tool": tool, "argv": argv, "at": time.time()})
        with self.lock(), (self.root / "invocations.jsonl").open("a") as handle:
            handle.write(line + "\n")

    def version(self) -> str:
        path = self.root / "version"
        return path.read_text().strip() if path.exists() else DEFAULT_VERSION

    def names(self) -> list[str]:
        return sorted(p.parent.name for p in self.dbs.glob("*/meta.json"))

    def exists(self, name: str) -> bool:
        return (self.dbs / name / "meta.json").is_file()

    def read(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.dbs / name / "meta.json").read_text())
        return data

    def write(self, name: str, meta: dict[str, Any]) -> None:
        folder = self.dbs / name
        (folder / "filestore").mkdir(parents=True, exist_ok=True)
        tmp = folder / "meta.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1, sort_keys=True))
        tmp.replace(folder / "meta.json")

    def drop(self, name: str) -> None:
        shutil.rmtree(self.dbs / name, ignore_errors=True)

    def set_fault(self, key: str, **fault: Any) -> None:
        """``sleep=seconds``, ``exit=code``, ``stderr=text``, ``times=n`` (tests' helper)."""
        path = self.root / "faults.json"
        with self.lock():
            faults = json.loads(path.read_text()) if path.exists() else {}
            faults[key] = fault
            path.write_text(json.dumps(faults))

    def invocations(self) -> list[dict[str, Any]]:
        path = self.root / "invocations.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def reset(self) -> None:
        """Forget every database, fault and logged invocation (containers stay)."""
        with self.lock():
            shutil.rmtree(self.dbs, ignore_errors=True)
            self.dbs.mkdir(parents=True)
            for name in ("faults.json", "invocations.jsonl"):
                (self.root / name).unlink(missing_ok=True)

    def apply_fault(self, key: str) -> None:
        """Sleep and/or fail as ``faults.json`` says for ``key`` (e.g. ``odoo-bin shell``)."""
        path = self.root / "faults.json"
        with self.lock():
            faults: dict[str, dict[str, Any]] = (
                json.loads(path.read_text()) if path.exists() else {}
            )
            fault = faults.get(key)
            if fault is None:
                return
            if "times" in fault:
                fault["times"] -= 1
                if fault["times"] <= 0:
                    faults.pop(key)
                path.write_text(json.dumps(faults))
        if fault.get("sleep"):
            time.sleep(float(fault["sleep"]))
        if "exit" in fault:
            _die(str(fault.get("stderr", "")), int(fault["exit"]))


def _die(message: str, code: int = 1) -> NoReturn:
    if message:
        sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
    raise SystemExit(code)


def _log(level: str, logger: str, message: str, db: str = "?") -> None:
    """One line in Odoo's log format, on stderr like Odoo without ``--logfile``."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    sys.stderr.write(f"{stamp},000 {os.getpid()} {level} {db} {logger}: {message}\n")
    sys.stderr.flush()


def _no_database(name: str) -> NoReturn:
    _die(
        "Traceback (most recent call last):\n  ...\n"
        f"psycopg2.OperationalError: connection to server on socket {_PG_SOCKET} failed: "
        f'FATAL:  database "{name}" does not exist'
    )


def _hash(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1000).hex()
    return f"{salt}${digest}"


def _check(password: str, stored: str) -> bool:
    salt, _, _digest = stored.partition("$")
    return secrets.compare_digest(_hash(password, salt), stored)


def _new_meta(name: str, lang: str, demo: bool, version: str) -> dict[str, Any]:
    return {
        "name": name,
        "uuid": str(uuid.uuid4()),
        "lang": lang,
        "demo": demo,
        "modules": ["base"],
        "company_name": "My Company",
        "country": None,
        "neutralized": False,
        "version": version,
        "users": {"2": {"login": "admin", "password": _hash("admin")}},
    }


# --- pct --------------------------------------------------------------------------------


def main_pct(argv: list[str]) -> None:
    state = State.from_env()
    state.log_invocation("pct", argv)
    state.apply_fault("pct")
    if len(argv) < 2 or argv[0] not in ("exec", "status"):
        _die(f"400 unknown command 'pct {' '.join(argv[:1])}'", 255)
    vmid = argv[1]
    if not vmid.isdigit() or not (state.root / "lxc" / f"{vmid}.conf").is_file():
        _die(f"Configuration file 'nodes/lab/lxc/{vmid}.conf' does not exist", 255)
    if argv[0] == "status":
        print("status: running")
        return
    rest = argv[2:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if not rest:
        _die("missing command", 255)
    sys.stdout.flush()
    try:
        os.execvp(rest[0], rest)  # noqa: S606 (pct exec hands argv over, no shell)
    except OSError as exc:
        _die(f"lxc-attach: {rest[0]}: {exc.strerror}", 255)


# --- psql -------------------------------------------------------------------------------


def main_psql(argv: list[str]) -> None:
    state = State.from_env()
    state.log_invocation("psql", argv)
    parser = argparse.ArgumentParser(prog="psql", add_help=False)
    for flag in ("-X", "-q", "-A", "-t"):
        parser.add_argument(flag, action="store_true")
    for flag in ("-d", "-U", "-h", "-p", "-c"):
        parser.add_argument(flag)
    parser.add_argument("-v", action="append", default=[])
    args, extra = parser.parse_known_args(argv)
    if extra:
        _die(f'psql: warning: extra command-line argument "{extra[0]}" ignored', 2)
    state.apply_fault("psql")
    dbname = args.d or "postgres"
    if dbname not in ("postgres", "template1") and not state.exists(dbname):
        _die(
            f"psql: error: connection to server on socket {_PG_SOCKET} failed: "
            f'FATAL:  database "{dbname}" does not exist',
            2,
        )
    sql = (args.c or "").lower()
    if "from pg_database" not in sql:
        _die("ERROR:  the lab psql answers only the database listing query", 1)
    for name in state.names():
        print(name)


# --- odoo-bin ---------------------------------------------------------------------------


def main_odoo_bin(argv: list[str]) -> None:
    state = State.from_env()
    state.log_invocation("odoo-bin", argv)
    if argv[:1] == ["--version"]:
        state.apply_fault("odoo-bin --version")
        print(f"Odoo Server {state.version()}")
        return
    command = argv[0] if argv and not argv[0].startswith("-") else "server"
    rest = argv[1:] if argv and not argv[0].startswith("-") else argv
    handlers = {"server": _server, "db": _db, "shell": _shell, "neutralize": _neutralize}
    handler = handlers.get(command)
    if handler is None:
        _die(f"Unknown command '{command}'", 1)
    handler(state, rest)


def _config_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("-c", "--config")
    parser.add_argument("-d", "--database")
    parser.add_argument("--log-level")
    parser.add_argument("--logfile")  # empty: log to stderr (what the stand-ins always do)
    parser.add_argument("--no-http", action="store_true")
    return parser


def _server(state: State, argv: list[str]) -> None:
    parser = _config_parser("odoo-bin")
    parser.add_argument("-i", "--init")
    parser.add_argument("--without-demo")
    parser.add_argument("--with-demo", action="store_true")
    parser.add_argument("--load-language")
    parser.add_argument("--stop-after-init", action="store_true")
    args = parser.parse_args(argv)
    if args.without_demo is not None:
        _log("WARNING", "odoo.tools.config", "--without-demo is deprecated: demo is opt-in")
    state.apply_fault("odoo-bin init" if args.init else "odoo-bin server")
    name = args.database
    if name and not _DB_NAME.match(name):
        _die(f"Invalid database name {name!r}")
    if args.load_language and args.load_language not in LANGUAGES:
        if name and args.init:
            with state.lock():  # like Odoo 19: the database exists before base fails
                if not state.exists(name):
                    meta = _new_meta(name, "en_US", False, state.version())
                    state.write(name, {**meta, "initialized": False})
        _die(
            "odoo.tools.convert.ParseError: while parsing base/data/res_lang_data.xml:11, "
            f'somewhere inside <function name="install_lang" model="res.lang"/> '
            f"(language {args.load_language!r})",
            255,
        )
    if name and args.init:
        with state.lock():
            if not state.exists(name):
                _log("INFO", "odoo.service.db", f"Create database `{name}`.", name)
                lang = args.load_language or "en_US"
                # Odoo 19: demo data is opt-in (--with-demo); --without-demo is deprecated.
                state.write(name, _new_meta(name, lang, bool(args.with_demo), state.version()))
            _log("INFO", "odoo.modules.loading", "loading 1 modules...", name)
            _log("INFO", "odoo.modules.loading", "Modules loaded.", name)
    if not args.stop_after_init:
        _log("INFO", "odoo.service.server", "HTTP service (werkzeug) running on 0.0.0.0:8069")
        signal.pause()  # a real server keeps serving until it is stopped
    _log("INFO", "odoo.service.server", "Initiating shutdown", name or "?")


def _db(state: State, argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="odoo-bin db")
    parser.add_argument("-c", "--config")
    parser.add_argument("-D", "--data-dir")
    subs = parser.add_subparsers(dest="sub", required=True)
    load = subs.add_parser("load")
    load.add_argument("-f", "--force", action="store_true")
    load.add_argument("-n", "--neutralize", action="store_true")
    load.add_argument("database", nargs="?")
    load.add_argument("dump_file")
    dump = subs.add_parser("dump")
    dump.add_argument("database")
    dump.add_argument("dump_path", nargs="?", default="-")
    for sub in ("duplicate", "rename"):
        p = subs.add_parser(sub)
        p.add_argument("-f", "--force", action="store_true")
        if sub == "duplicate":
            p.add_argument("-n", "--neutralize", action="store_true")
        p.add_argument("source")
        p.add_argument("target")
    drop = subs.add_parser("drop")
    drop.add_argument("database")
    args = parser.parse_args(argv)
    state.apply_fault(f"odoo-bin db {args.sub}")
    if args.sub == "dump":
        if not state.exists(args.database):
            _no_database(args.database)
        if args.dump_path == "-":
            _write_dump(state, args.database, sys.stdout.buffer)
        else:
            with open(args.dump_path, "wb") as handle:
                _write_dump(state, args.database, handle)
        return
    with state.lock():
        if args.sub == "drop":
            if not state.exists(args.database):
                _die(f"Database {args.database} does not exist.")
            state.drop(args.database)
        elif args.sub in ("duplicate", "rename"):
            _check_target(state, args.target, args.force)
            if not state.exists(args.source):
                _die(
                    "psycopg2.errors.InvalidCatalogName: "
                    f'template database "{args.source}" does not exist'
                )
            shutil.copytree(state.dbs / args.source, state.dbs / args.target)
            meta = state.read(args.target)
            meta["name"] = args.target
            if args.sub == "duplicate":
                meta["uuid"] = str(uuid.uuid4())
                meta["neutralized"] = bool(args.neutralize) or meta["neutralized"]
            state.write(args.target, meta)
            if args.sub == "rename":
                state.drop(args.source)
        else:
            _load(state, args)


def _check_target(state: State, target: str, force: bool) -> None:
    if state.exists(target):
        if not force:
            _die(
                f"Target database {target} exists, aborting.\n\n"
                "\tuse `--force` to delete the existing database anyway."
            )
        state.drop(target)


def _write_dump(state: State, name: str, out: io.BufferedIOBase | Any) -> None:
    """Odoo's zip: dump.sql (the lab's metadata inside an SQL comment), filestore/, manifest."""
    meta = state.read(name)
    manifest = {
        "odoo_dump": "1",
        "db_name": name,
        "version": meta["version"],
        "version_info": [int(p) for p in meta["version"].split(".")] + ["final", 0, ""],
        "major_version": meta["version"],
        "pg_version": "16.0",
        "modules": {m: meta["version"] for m in meta["modules"]},
    }
    sql = f"-- PostgreSQL database dump (lab)\n-- lab-meta: {json.dumps(meta)}\n"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dump.sql", sql)
        store = state.dbs / name / "filestore"
        for path in sorted(p for p in store.rglob("*") if p.is_file()):
            arcname = f"filestore/{path.relative_to(store).as_posix()}"
            with path.open("rb") as src, archive.open(arcname, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
        archive.writestr("manifest.json", json.dumps(manifest, indent=4))


def _load(state: State, args: argparse.Namespace) -> None:
    name = args.database or Path(args.dump_file).stem
    _check_target(state, name, args.force)
    sys.stderr.write(f"Restoring {args.dump_file}...\n")
    if not zipfile.is_zipfile(args.dump_file):
        _die(
            "Not a zipped dump file, use `pg_restore` to restore raw dumps, "
            "and `psql` to execute sql dumps or scripts."
        )
    with zipfile.ZipFile(args.dump_file) as archive:
        sql = archive.read("dump.sql").decode()
        match = re.search(r"^-- lab-meta: (.*)$", sql, re.M)
        if match is None:
            _die("psql:dump.sql: ERROR:  the lab restores only dumps made by the lab")
        meta = json.loads(match.group(1))
        store = state.dbs / name / "filestore"
        store.mkdir(parents=True, exist_ok=True)
        for member in archive.namelist():
            if member.startswith("filestore/") and not member.endswith("/"):
                target = store / member.removeprefix("filestore/")
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
    meta.update(name=name, uuid=str(uuid.uuid4()))  # the CLI always restores as a copy
    meta["neutralized"] = bool(args.neutralize) or meta["neutralized"]
    state.write(name, meta)


def _neutralize(state: State, argv: list[str]) -> None:
    parser = _config_parser("odoo-bin neutralize")
    parser.add_argument("--stdout", action="store_true")
    args = parser.parse_args(argv)
    state.apply_fault("odoo-bin neutralize")
    if not args.database:
        _log("ERROR", "odoo.cli.neutralize", 'Neutralize command needs a database name. Use "-d"')
        raise SystemExit(1)
    with state.lock():
        if not state.exists(args.database):
            _no_database(args.database)
        meta = state.read(args.database)
        _log("INFO", "odoo.cli.neutralize", "Starting database neutralization", args.database)
        meta["neutralized"] = True
        state.write(args.database, meta)
    _log("INFO", "odoo.cli.neutralize", "Neutralization finished", args.database)


def _script_parts(script: str) -> tuple[str, dict[str, Any]]:
    """``OP = "…"`` and ``PARAMS = json.loads("…")`` read from the script's syntax tree."""
    op, params = "", None
    for node in ast.parse(script).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        target, value = node.targets[0].id, node.value
        if target == "OP" and isinstance(value, ast.Constant):
            op = str(value.value)
        if target == "PARAMS" and isinstance(value, ast.Call) and value.args:
            params = json.loads(ast.literal_eval(value.args[0]))
    if not op or not isinstance(params, dict):
        _die("NameError: the lab odoo-bin shell understands only erp-core's scripts")
    return op, params


def _set_user(meta: dict[str, Any], op: str, params: dict[str, Any]) -> None:
    """The service user (create or reset) and a password change, as the real scripts do."""
    users: dict[str, dict[str, Any]] = meta["users"]
    if op == "service_user":
        login, password = params["service_login"], params["service_password"]
    else:
        login, password = params["target_login"], params["new_password"]
    found = next((u for u in users.values() if u["login"] == login), None)
    if found is None and op == "set_password":
        print("ERP_CORE_NO_USER")
        return
    if found is None:
        found = users[str(max(int(k) for k in users) + 1)] = {"login": login}
    found["password"] = _hash(password)
    print("ERP_CORE_OK")


def _shell(state: State, argv: list[str]) -> None:
    parser = _config_parser("odoo-bin shell")
    parser.add_argument("--shell-interface")
    args = parser.parse_args(argv)
    state.apply_fault("odoo-bin shell")
    op, params = _script_parts(sys.stdin.read())
    if op == "list_languages":  # no database: scan_languages()
        print("ERP_CORE_LANGS=" + json.dumps(sorted(LANGUAGES)))
        return
    if not args.database:
        _die("odoo-bin shell: the lab needs -d")
    with state.lock():
        if not state.exists(args.database):
            _no_database(args.database)
        meta = state.read(args.database)
        admin = meta["users"]["2"]
        if op == "set_params":  # restore_from_file(copy=False) puts these back
            meta.setdefault("params", {}).update(dict(params["params"]))
            state.write(args.database, meta)
            print("ERP_CORE_OK")
            return
        if op == "set_admin":
            admin.update(login=params["login"], password=_hash(params["password"]))
            if params.get("country"):
                meta["country"] = params["country"]
            state.write(args.database, meta)
            print("ERP_CORE_OK")
            return
        uid = next(
            (
                int(uid)
                for uid, user in meta["users"].items()
                if user["login"] == params["login"] and _check(params["password"], user["password"])
            ),
            0,
        )
        if op == "check_login":
            print(f"ERP_CORE_UID={uid}" if uid else "ERP_CORE_LOGIN_FAILED")
        elif op == "personalize":
            if not uid:
                print("ERP_CORE_LOGIN_FAILED")
                return
            plan = params["plan"]  # erp_core.drivers.base.Personalization.as_json()
            config = dict(plan["config"])
            meta.update(
                company_name=plan["company"]["name"],
                company_email=plan["company"]["email"],
                country=plan["country_code"] or meta.get("country"),
                admin_lang=plan["admin"]["lang"],
                web_base_url=config["web.base.url"],
            )
            state.write(args.database, meta)
            print("ERP_CORE_OK")
        elif op == "set_param":
            if not uid:
                print("ERP_CORE_LOGIN_FAILED")
                return
            meta.setdefault("params", {})[params["key"]] = params["value"]
            if params["key"] == "web.base.url":
                meta["web_base_url"] = params["value"]
            state.write(args.database, meta)
            print("ERP_CORE_OK")
        elif op == "set_company":
            if not uid:
                print("ERP_CORE_LOGIN_FAILED")
                return
            meta["company_name"] = params["company_name"]
            state.write(args.database, meta)
            print("ERP_CORE_OK")
        elif op in ("pause_crons", "resume_crons"):
            if not uid:
                print("ERP_CORE_LOGIN_FAILED")
                return
            crons = meta.setdefault("crons", {"1": True, "2": True, "3": False})
            store = meta.setdefault("params", {})
            if op == "pause_crons":
                ids = [int(i) for i, on in sorted(crons.items()) if on]
                store[params["param"]] = ",".join(map(str, ids))
            else:
                raw = store.pop(params["param"], "") or ""
                ids = [int(i) for i in raw.split(",") if i.strip().isdigit()]
            for i in ids:
                crons[str(i)] = op == "resume_crons"
            state.write(args.database, meta)
            print("ERP_CORE_CRONS=" + json.dumps(ids))
        elif op in ("service_user", "set_password"):
            if not uid:
                print("ERP_CORE_LOGIN_FAILED")
                return
            _set_user(meta, op, params)
            state.write(args.database, meta)
        else:
            _die(f"NameError: name {op!r} is not defined")
