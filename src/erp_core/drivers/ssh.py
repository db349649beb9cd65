"""Run validated commands on a remote host over SSH (``asyncssh``), for host-mode drivers.

:class:`SshRunner` keeps one connection per driver and runs each command as its own
channel. The command line is built with :func:`shlex.join` from argv items the caller has
validated; an optional prefix (``pct exec <vmid> --``, ``runuser -u odoo --``) is put in
front, and ``timeout`` on the server kills a command shortly after this side gives up.
stdout/stderr lines reach an :data:`OutputCallback` as they arrive, with secrets masked.
Errors become :class:`~erp_core.drivers.base.DriverError` with Spanish messages.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shlex
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from erp_core.drivers.base import DriverError, PermanentDriverError, TransientDriverError

__all__ = [
    "CommandResult",
    "OutputCallback",
    "SshRunner",
    "SshTarget",
    "check_arg",
    "check_text",
    "invalid_argument",
    "key_fingerprint",
]

logger = logging.getLogger(__name__)

OutputCallback = Callable[[str, str], Awaitable[None]]
"""Receives ``(stream, line)`` — ``stream`` is ``stdout`` or ``stderr`` — as lines arrive."""

TOKEN_RE = re.compile(r"^[A-Za-z0-9_./@:+=,-]+$")
"""A path or program word that needs no quoting at all (quoted anyway)."""
USER_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
HOST_RE = re.compile(r"^[A-Za-z0-9.:-]{1,253}$")
CHUNK = 64 * 1024
TAIL_LINES = 20
SHOWN_LINES = 5
EXIT_TEMPFAIL = 75
TIMEOUT_EXITS = (124, 137)  # coreutils ``timeout``: TERM, then KILL


def invalid_argument(what: str, value: object) -> PermanentDriverError:
    return PermanentDriverError(
        f"Valor no válido para {what}: {str(value)[:80]!r}; no se ejecutó ningún comando.",
        vendor_code="invalid_argument",
    )


def check_arg(pattern: re.Pattern[str], value: str, what: str) -> str:
    """``value`` when it matches ``pattern`` entirely, else a PermanentDriverError."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise invalid_argument(what, value)
    return value


def check_text(value: str, what: str, max_length: int) -> str:
    """Free text that travels only on stdin: non-empty, bounded, no control characters."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise invalid_argument(what, value)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise invalid_argument(what, value)
    return value


def key_fingerprint(private_key: str, passphrase: str | None = None) -> str:
    """``SHA256:…`` of a private key's public half (shown instead of the key)."""
    try:
        key = asyncssh.import_private_key(private_key, passphrase)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise PermanentDriverError(
            "La clave privada SSH no es válida.", vendor_detail=type(exc).__name__
        ) from None
    return str(key.get_fingerprint("sha256"))


@dataclass(frozen=True, slots=True)
class SshTarget:
    """Where and how to log in. ``known_hosts`` is the text of a known_hosts file (None:
    the control plane's ``~/.ssh/known_hosts``); ``insecure_skip_host_key_check`` is for
    the lab only. Without ``private_key`` the SSH agent and default keys are used."""

    host: str
    port: int = 22
    user: str = "root"
    private_key: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    known_hosts: str | None = field(default=None, repr=False)
    insecure_skip_host_key_check: bool = False


@dataclass
class CommandResult:
    exit_status: int
    stdout: list[str]
    stderr_tail: deque[str]


class SshRunner:
    def __init__(
        self,
        target: SshTarget,
        *,
        prefix: Sequence[str] = (),
        connect_timeout: float = 10.0,
        on_output: OutputCallback | None = None,
    ) -> None:
        check_arg(HOST_RE, target.host, "el host SSH")
        if not isinstance(target.port, int) or not 0 < target.port < 65536:
            raise invalid_argument("el puerto SSH", target.port)
        check_arg(USER_RE, target.user, "el usuario SSH")
        self.target = target
        self.prefix = [check_arg(TOKEN_RE, p, "el prefijo") for p in prefix]
        self.connect_timeout = connect_timeout
        self.on_output = on_output
        self._conn: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()

    @property
    def where(self) -> str:
        return f"{self.target.host}:{self.target.port}"

    async def connection(self, operation: str) -> asyncssh.SSHClientConnection:
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            t = self.target
            options: dict[str, Any] = {
                "port": t.port,
                "username": t.user,
                "connect_timeout": self.connect_timeout,
                "login_timeout": self.connect_timeout,
                "keepalive_interval": 15,
            }
            try:
                if t.insecure_skip_host_key_check:
                    options["known_hosts"] = None
                elif t.known_hosts is not None:
                    options["known_hosts"] = asyncssh.import_known_hosts(t.known_hosts)
                if t.private_key:
                    key = asyncssh.import_private_key(t.private_key, t.passphrase)
                    options["client_keys"] = [key]
                    options["agent_path"] = None
            except (asyncssh.KeyImportError, ValueError) as exc:
                raise PermanentDriverError(
                    "La clave SSH o el known_hosts configurados no son válidos.",
                    vendor_detail=type(exc).__name__,
                ) from None
            try:
                self._conn = await asyncssh.connect(t.host, **options)
            except (asyncssh.Error, OSError, TimeoutError) as exc:
                raise self.ssh_error(exc, operation) from None
            return self._conn

    def ssh_error(self, exc: BaseException, operation: str) -> DriverError:
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            return PermanentDriverError(
                f"La clave de host SSH de {self.where} no coincide con la registrada "
                f"(known_hosts); se rechazó la conexión al {operation}.",
                vendor_detail=detail,
                vendor_code="host_key_mismatch",
            )
        if isinstance(exc, asyncssh.PermissionDenied):
            return PermanentDriverError(
                f"El servidor SSH {self.where} rechazó la clave del usuario "
                f"«{self.target.user}» al {operation}.",
                vendor_detail=detail,
                vendor_code="ssh_auth_failed",
            )
        self._conn = None
        return TransientDriverError(
            f"Se perdió o no se pudo abrir la conexión SSH con {self.where} al {operation}.",
            vendor_detail=detail,
        )

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            await conn.wait_closed()

    def command_line(self, argv: Sequence[str], timeout: float) -> str:
        limit = str(int(timeout) + 5)  # the server kills it shortly after this side gives up
        return shlex.join([*self.prefix, "timeout", "-k", "5", limit, *argv])

    async def _emit(self, stream: str, line: str) -> None:
        if self.on_output is None:
            return
        try:
            await self.on_output(stream, line)
        except Exception:  # a broken log sink must not fail the operation
            logger.exception("ssh output callback failed")

    async def _pump(
        self,
        reader: asyncssh.SSHReader[bytes],
        stream: str,
        sink: list[str] | deque[str],
        secrets: Iterable[str],
        emit: bool,
    ) -> None:
        while raw := await reader.readline():
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            for secret in secrets:
                line = line.replace(secret, "***")
            sink.append(line)
            if emit:
                await self._emit(stream, line)

    @staticmethod
    async def _feed(
        process: asyncssh.SSHClientProcess[bytes], data: bytes | None, path: Path | None
    ) -> None:
        try:
            if data is not None:
                process.stdin.write(data)
            if path is not None:
                with path.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        process.stdin.write(chunk)
                        await process.stdin.drain()
            process.stdin.write_eof()
        except (asyncssh.Error, BrokenPipeError, ConnectionError):
            pass  # the command ended early; its exit status says why

    async def run(
        self,
        argv: Sequence[str],
        *,
        operation: str,
        timeout: float,
        stdin: bytes | None = None,
        stdin_path: Path | None = None,
        secrets: Iterable[str] = (),
        emit_stdout: bool = True,
    ) -> CommandResult:
        """Run one command to its end (or ``timeout``); the caller judges the exit status."""
        logger.info("ssh %s: %s", self.where, shlex.join(argv))
        conn = await self.connection(operation)
        secrets = [s for s in secrets if s]
        out: list[str] = []
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        try:
            async with asyncio.timeout(timeout):
                process = await conn.create_process(self.command_line(argv, timeout), encoding=None)
                tasks = [
                    asyncio.create_task(self._feed(process, stdin, stdin_path)),
                    asyncio.create_task(
                        self._pump(process.stdout, "stdout", out, secrets, emit_stdout)
                    ),
                    asyncio.create_task(self._pump(process.stderr, "stderr", tail, secrets, True)),
                ]
                try:
                    await asyncio.gather(*tasks)
                    completed = await process.wait()
                finally:
                    for task in tasks:
                        task.cancel()
                    process.close()
        except TimeoutError:
            raise TransientDriverError(
                f"El servidor no terminó de {operation} en {timeout:g} s; se canceló.",
                vendor_detail=f"timeout after {timeout}s: {shlex.join(argv)}",
            ) from None
        except (asyncssh.Error, OSError) as exc:
            raise self.ssh_error(exc, operation) from None
        status = completed.exit_status if completed.exit_status is not None else -1
        return CommandResult(status, out, tail)

    def exit_error(self, result: CommandResult, operation: str) -> DriverError:
        """The Spanish error for a non-zero exit, with the last lines of stderr."""
        lines = [line[:300] for line in result.stderr_tail if line.strip()][-SHOWN_LINES:]
        shown = " | ".join(lines) or "sin salida de error"
        code = result.exit_status
        detail = "\n".join(result.stderr_tail)
        if code in TIMEOUT_EXITS:
            return TransientDriverError(
                f"El servidor canceló el comando por tiempo al {operation}.", vendor_detail=detail
            )
        message = f"No se pudo {operation} (código de salida {code}). Últimas líneas: {shown}"
        if code == EXIT_TEMPFAIL:
            return TransientDriverError(message, vendor_detail=detail)
        return DriverError(message, vendor_detail=detail)

    @asynccontextmanager
    async def stream_stdout(
        self,
        argv: Sequence[str],
        *,
        operation: str,
        timeout: float,
        idle_timeout: float,
        chunk_size: int = CHUNK,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Binary stdout of a command, chunk by chunk; the channel's flow control keeps at
        most one window (2 MiB) buffered, so nothing is held whole in memory."""
        logger.info("ssh %s: %s", self.where, shlex.join(argv))
        conn = await self.connection(operation)
        try:
            process = await conn.create_process(self.command_line(argv, timeout), encoding=None)
        except (asyncssh.Error, OSError) as exc:
            raise self.ssh_error(exc, operation) from None
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        errors = asyncio.create_task(self._pump(process.stderr, "stderr", tail, (), True))
        process.stdin.write_eof()
        try:
            yield self._chunks(process, errors, tail, operation, timeout, idle_timeout, chunk_size)
        finally:
            errors.cancel()
            process.close()

    async def _chunks(
        self,
        process: asyncssh.SSHClientProcess[bytes],
        errors: asyncio.Task[None],
        tail: deque[str],
        operation: str,
        timeout: float,
        idle_timeout: float,
        chunk_size: int,
    ) -> AsyncIterator[bytes]:
        deadline = time.monotonic() + timeout
        try:
            while True:
                idle = min(idle_timeout, max(deadline - time.monotonic(), 0.001))
                chunk = await asyncio.wait_for(process.stdout.read(chunk_size), idle)
                if not chunk:
                    break
                yield chunk
            await asyncio.wait_for(errors, idle_timeout)
            completed = await asyncio.wait_for(process.wait(), idle_timeout)
        except TimeoutError:
            raise TransientDriverError(
                f"El servidor dejó de enviar datos al {operation}; se canceló.",
                vendor_detail="stream stalled or exceeded its time limit",
            ) from None
        except (asyncssh.Error, OSError) as exc:
            raise self.ssh_error(exc, operation) from None
        status = completed.exit_status if completed.exit_status is not None else -1
        if status != 0:
            raise self.exit_error(CommandResult(status, [], tail), operation)
