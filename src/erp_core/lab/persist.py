"""Lab emulators that survive a restart of `make run`.

The control plane's database lives under var/ and outlives the process; the emulators used
to start empty, so after a restart tenants read *Activo* while their Odoo databases, DNS
records and tunnel routes were gone. This module keeps each emulator's state in one JSON
file under var/lab/ (written atomically after every changing request, loaded at start).

It is generic on purpose: `encode`/`decode` turn dataclasses' plain fields (bytes, tuples,
int-keyed dicts included) into JSON and back, and `save_after_writes` is an ASGI wrapper
that snapshots after any non-GET request, so the emulators' own modules need no edits.
Credentials are not persisted: every start issues new ones and re-points the settings.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from erp_core.lab.odoo_state import LabDatabase

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def encode(value: Any) -> Any:
    """Plain Python (bytes, tuples, non-string dict keys) as JSON-safe values."""
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$items": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, list | set):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$b64"}:
            return base64.b64decode(value["$b64"])
        if set(value) == {"$tuple"}:
            return tuple(decode(v) for v in value["$tuple"])
        if set(value) == {"$items"}:
            return {decode(k): decode(v) for k, v in value["$items"]}
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def dataclass_fields(obj: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dataclass instance's fields (minus `skip`), encoded."""
    return {
        f.name: encode(getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if f.name not in skip and not f.name.startswith("_")
    }


class Snapshot:
    """One JSON file, replaced atomically (a crash mid-write leaves the previous one)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("lab snapshot unreadable; starting empty", extra={"path": str(self.path)})
            return None
        return data if isinstance(data, dict) else None

    def save(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)


def save_after_writes(app: ASGIApp, save: Callable[[], None]) -> ASGIApp:
    """Wrap an emulator's ASGI app: after every request that may change state, snapshot."""

    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        finally:
            if scope.get("type") == "http" and scope.get("method") not in ("GET", "HEAD"):
                try:
                    save()
                except Exception:  # the lab keeps serving; the next write retries
                    log.exception("lab snapshot failed")

    return wrapped


# --- the emulators' states ----------------------------------------------------------------


def dump_odoo(state: Any) -> dict[str, Any]:
    with state.lock:
        return {name: dataclass_fields(db) for name, db in state.databases.items()}


def load_odoo(state: Any, data: dict[str, Any]) -> None:
    names = {f.name for f in dataclasses.fields(LabDatabase)}
    with state.lock:
        for name, fields in data.items():
            values = {k: v for k, v in decode(fields).items() if k in names}
            state.databases[name] = LabDatabase(**values)


def dump_cloudflare(state: Any) -> dict[str, Any]:
    with state.lock:
        return {
            "tunnels": encode(state.tunnels),
            "configurations": encode(state.configurations),
            "dns_records": encode(state.dns_records),
        }


def load_cloudflare(state: Any, data: dict[str, Any]) -> None:
    with state.lock:
        for key in ("tunnels", "configurations", "dns_records"):
            getattr(state, key).update(decode(data.get(key) or {}))


def rewrite_urls(data: Any, old: str, new: str) -> Any:
    """Ingress rules name the lab Odoo by URL; its port changes on every start."""
    if not old or old == new:
        return data
    return json.loads(json.dumps(data).replace(old, new))
