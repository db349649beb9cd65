"""Fault injection shared by every lab emulator.

A :class:`FaultPlan` maps an operation name (``db.create_database``, ``cf.put_configuration``,
``web.backup``…) to a :class:`FaultSpec`: added latency, then ``fail_times`` failures with
an HTTP status or a vendor error, then success. Tests set it in-process; a browser or a
separate process sets it over HTTP (``POST /_lab/faults``), so the same knobs drive
``serve --lab`` demos. Emulators run in their own thread, hence the lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

ALWAYS = -1
"""``fail_times`` value meaning "fail on every call until cleared"."""


@dataclass(slots=True)
class FaultSpec:
    """What to do to calls of one operation.

    ``error_code`` (Cloudflare numeric code) and ``error_name`` (Odoo exception class)
    turn the failure into a vendor-shaped error instead of a bare HTTP status.
    """

    latency_ms: int = 0
    fail_times: int = 0
    status: int = 503
    error_code: int | None = None
    error_name: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class InjectedFailure:
    """A failure the emulator must render in its vendor's shape."""

    operation: str
    status: int
    error_code: int | None
    error_name: str | None
    message: str | None


class FaultPlan:
    """Thread-safe registry of faults, plus a per-operation call counter for assertions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, FaultSpec] = {}
        self.calls: Counter[str] = Counter()

    def set(
        self,
        operation: str,
        *,
        latency_ms: int = 0,
        fail_times: int = 0,
        status: int = 503,
        error_code: int | None = None,
        error_name: str | None = None,
        message: str | None = None,
    ) -> None:
        """Install (or replace) the fault for ``operation``."""
        spec = FaultSpec(latency_ms, fail_times, status, error_code, error_name, message)
        with self._lock:
            self._faults[operation] = spec

    def clear(self, operation: str | None = None) -> None:
        """Remove one operation's fault, or all of them (and the call counters)."""
        with self._lock:
            if operation is None:
                self._faults.clear()
                self.calls.clear()
            else:
                self._faults.pop(operation, None)

    def take(self, operation: str) -> tuple[int, InjectedFailure | None]:
        """Count a call and consume one failure if any: returns (latency_ms, failure)."""
        with self._lock:
            self.calls[operation] += 1
            spec = self._faults.get(operation)
            if spec is None:
                return 0, None
            if spec.fail_times == 0:
                return spec.latency_ms, None
            if spec.fail_times > 0:
                spec.fail_times -= 1
            failure = InjectedFailure(
                operation, spec.status, spec.error_code, spec.error_name, spec.message
            )
            return spec.latency_ms, failure

    async def apply(self, operation: str) -> InjectedFailure | None:
        """Sleep the configured latency, then return the failure to render (if any)."""
        latency_ms, failure = self.take(operation)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        return failure

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready view for ``GET /_lab/state``."""
        with self._lock:
            return {
                "faults": {op: asdict(spec) for op, spec in self._faults.items()},
                "calls": dict(self.calls),
            }


def lab_control_routes(
    plan: FaultPlan,
    state: Callable[[], dict[str, Any]],
    reset: Callable[[], None],
) -> list[BaseRoute]:
    """``/_lab/*`` routes every emulator mounts: faults, state inspection, reset.

    ``POST /_lab/faults`` takes ``{"operation": …, "latency_ms": …, "fail_times": …,
    "status": …, "error_code": …, "error_name": …, "message": …}`` or a list of them.
    """

    async def set_faults(request: Request) -> Response:
        payload = await request.json()
        items = payload if isinstance(payload, list) else [payload]
        allowed = set(FaultSpec.__dataclass_fields__)
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("operation"), str):
                return JSONResponse({"error": "each fault needs an 'operation'"}, 400)
            unknown = set(item) - allowed - {"operation"}
            if unknown:
                return JSONResponse({"error": f"unknown fields: {sorted(unknown)}"}, 400)
            options = {key: value for key, value in item.items() if key != "operation"}
            plan.set(item["operation"], **options)
        return JSONResponse(plan.snapshot())

    async def clear_faults(request: Request) -> Response:
        operation = request.query_params.get("operation")
        plan.clear(operation)
        return JSONResponse(plan.snapshot())

    async def get_state(request: Request) -> Response:
        return JSONResponse({"lab": state(), **plan.snapshot()})

    async def do_reset(request: Request) -> Response:
        reset()
        plan.clear()
        return JSONResponse({"reset": True})

    return [
        Route("/_lab/faults", set_faults, methods=["POST"]),
        Route("/_lab/faults", clear_faults, methods=["DELETE"]),
        Route("/_lab/state", get_state, methods=["GET"]),
        Route("/_lab/reset", do_reset, methods=["POST"]),
    ]
