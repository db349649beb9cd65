"""A real OpenSSH server on loopback for host-mode tests and the lab.

:func:`start_lab_sshd` runs Debian's ``/usr/sbin/sshd`` in the foreground on a free
127.0.0.1 port with a throwaway host key and client key pair in a temporary directory. The
session ``PATH`` puts the stand-ins (``bin/``) first, so ``pct``, ``odoo-bin`` and ``psql``
resolve to them, and ``LAB_ODOO_STATE_DIR`` tells them where their state lives.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from erp_core.lab.host.standins import STATE_ENV

SSHD = "/usr/sbin/sshd"
BIN_DIR = Path(__file__).resolve().parent / "bin"
LOOPBACK = "127.0.0.1"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def sshd_missing_reason(sshd: str = SSHD) -> str | None:
    """Why the lab SSH server cannot start here (None when it can)."""
    if not Path(sshd).is_file():
        return f"{sshd} is missing (make system-deps installs openssh-server)"
    if os.geteuid() != 0:
        return "the lab sshd needs root (it logs in as the current user with a public key)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _keypair(directory: Path, name: str) -> tuple[Path, str]:
    """An Ed25519 key written as ``name`` (0600) and its public key line."""
    key = asyncssh.generate_private_key("ssh-ed25519", comment=f"erp-core-lab-{name}")
    path = directory / name
    path.write_bytes(key.export_private_key("openssh"))
    path.chmod(0o600)
    public = key.export_public_key("openssh").decode().strip()
    (directory / f"{name}.pub").write_text(public + "\n")
    return path, public


@dataclass
class LabSshd:
    """A running lab sshd and what a client needs to reach it."""

    directory: Path
    state_dir: Path
    port: int
    user: str
    client_key_path: Path
    host_public_key: str
    process: subprocess.Popen[bytes]
    host: str = LOOPBACK

    @property
    def client_private_key(self) -> str:
        return self.client_key_path.read_text()

    @property
    def known_hosts(self) -> str:
        """A known_hosts line for this server (OpenSSH's ``[host]:port`` form)."""
        return f"[{self.host}]:{self.port} {self.host_public_key}\n"

    def add_container(self, vmid: int) -> None:
        """Make ``pct exec <vmid>`` accept this container id."""
        lxc = self.state_dir / "lxc"
        lxc.mkdir(parents=True, exist_ok=True)
        (lxc / f"{vmid}.conf").write_text("hostname: odoo\n")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def __enter__(self) -> LabSshd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _config(
    directory: Path, state_dir: Path, port: int, host_key: Path, env: Mapping[str, str]
) -> str:
    path = os.pathsep.join([str(BIN_DIR), str(Path(sys.executable).parent), SYSTEM_PATH])
    values = {"PATH": path, STATE_ENV: str(state_dir), **env}
    for name, value in values.items():
        if not _ENV_NAME.match(name) or '"' in value or "\n" in value:
            raise ValueError(f"lab sshd: unusable session variable {name}")
    return "\n".join(
        [
            f"Port {port}",
            f"ListenAddress {LOOPBACK}",
            f"HostKey {host_key}",
            f"PidFile {directory / 'sshd.pid'}",
            f"AuthorizedKeysFile {directory / 'authorized_keys'}",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PermitUserEnvironment no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "MaxSessions 64",
            "MaxStartups 64:30:128",
            "LogLevel ERROR",
            "SetEnv " + " ".join(f'{name}="{value}"' for name, value in values.items()),
            "",
        ]
    )


def start_lab_sshd(
    directory: Path,
    *,
    state_dir: Path | None = None,
    sshd: str = SSHD,
    env: Mapping[str, str] | None = None,
) -> LabSshd:
    """Start sshd on a free loopback port; wait until it accepts connections.

    ``env`` adds (or, for ``PATH``, replaces) session variables: the real-Odoo host-mode
    fixture puts only ``pct`` from the stand-ins on ``PATH`` and gives ``psql`` its ``PG*``
    variables, as an operator's Odoo user would have them.
    """
    reason = sshd_missing_reason(sshd)
    if reason:
        raise RuntimeError(reason)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    state = state_dir or directory / "state"
    state.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    host_key, host_public = _keypair(directory, "host_ed25519")
    client_key, client_public = _keypair(directory, "client_ed25519")
    (directory / "authorized_keys").write_text(client_public + "\n")
    log = directory / "sshd.log"
    for _attempt in range(5):
        port = _free_port()
        config = directory / "sshd_config"
        config.write_text(_config(directory, state, port, host_key, env or {}))
        process = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(config), "-E", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if _wait_listening(port, process):
            return LabSshd(
                directory=directory,
                state_dir=state,
                port=port,
                user=getpass.getuser(),
                client_key_path=client_key,
                host_public_key=host_public,
                process=process,
            )
        process.kill()
        process.wait()
    detail = log.read_text()[-500:] if log.exists() else ""
    raise RuntimeError(f"lab sshd did not start: {detail}")


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return True
        time.sleep(0.05)
    return False
