"""Run an ASGI app on loopback in a background thread, for tests and ``serve --lab``.

The emulator gets its own event loop in its own thread, so a test's loop can block on a
driver call (or a deliberately slow emulator) without starving the server. The socket is
bound before uvicorn starts, which makes port 0 race-free and lets ``.url`` be known at
once. HTTPS uses a throw-away self-signed certificate (the Proxmox emulator needs TLS).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"


def write_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """Create a key and a certificate valid for 127.0.0.1/localhost; return their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "erp-core lab")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path = directory / "lab-key.pem"
    cert_path = directory / "lab-cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


class LabServer:
    """An ASGI app served by uvicorn on 127.0.0.1 from a daemon thread.

    Use ``with LabServer(app) as server:`` (or ``async with``) or ``start()``/``stop()``.
    ``cert_path`` is the certificate to trust when ``https=True``.
    """

    def __init__(self, app: Any, *, port: int = 0, https: bool = False) -> None:
        self.app = app
        self.https = https
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self.cert_path: Path | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:40123``."""
        if not self.port:
            raise RuntimeError("LabServer is not started")
        scheme = "https" if self.https else "http"
        return f"{scheme}://{LOOPBACK}:{self.port}"

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this server's certificate (``verify=`` for httpx)."""
        if self.cert_path is None:
            raise RuntimeError("LabServer is not started with https=True")
        return ssl.create_default_context(cafile=str(self.cert_path))

    def start(self, timeout: float = 10.0) -> LabServer:
        """Bind, start serving in the background and wait until requests are accepted."""
        if self._thread is not None:
            return self
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose `proto` says
        # TCP, and accepted sockets inherit it. With proto 0 every request waited ~40 ms for
        # Nagle + delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, self._requested_port))
        self._socket = sock
        self.port = sock.getsockname()[1]
        ssl_options: dict[str, Any] = {}
        if self.https:
            self._tempdir = tempfile.TemporaryDirectory(prefix="erp-lab-tls-")
            key_path, cert_path = write_self_signed_cert(Path(self._tempdir.name))
            self.cert_path = cert_path
            ssl_options = {"ssl_keyfile": str(key_path), "ssl_certfile": str(cert_path)}
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
            **ssl_options,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name=f"lab-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = threading.Event()
        waited = 0.0
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError("lab server thread died during start-up")
            if waited >= timeout:
                raise TimeoutError(f"lab server did not start within {timeout}s")
            deadline.wait(0.01)
            waited += 0.01
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit, wait for the thread, release the socket and certificate."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        if self._tempdir is not None:
            self._tempdir.cleanup()
        self._server = self._thread = self._socket = self._tempdir = None

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> LabServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
