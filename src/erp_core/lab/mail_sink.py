"""The lab's SMTP sink: an aiosmtpd server on loopback that keeps every message it receives,
so a newcomer can open the verification link of a sign-up without a real mail server."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

MAX_MESSAGES = 500


class MailSink:
    """Captured messages, newest last; thread-safe (the SMTP server runs in its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self._next_id = 1

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        parsed = message_from_bytes(data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        text_part = parsed.get_body(preferencelist=("plain",))
        html_part = parsed.get_body(preferencelist=("html",))
        with self._lock:
            self._messages.append(
                {
                    "id": self._next_id,
                    "received_at": datetime.now(UTC),
                    "mail_from": str(envelope.mail_from or ""),
                    "to": [str(r) for r in envelope.rcpt_tos],
                    "subject": str(parsed.get("Subject", "")),
                    "text": text_part.get_content() if text_part is not None else "",
                    "html": html_part.get_content() if html_part is not None else None,
                    "headers": {k: str(v) for k, v in parsed.items()},
                }
            )
            self._next_id += 1
            del self._messages[:-MAX_MESSAGES]
        return "250 Message accepted for delivery"

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(reversed(self._messages))
        if to:
            rows = [m for m in rows if to.lower() in (r.lower() for r in m["to"])]
        return [{k: v for k, v in m.items() if k != "headers"} for m in rows]

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


class MailSinkServer:
    """An SMTP server on 127.0.0.1 feeding a MailSink; `stop()` closes it."""

    def __init__(self, port: int = 0) -> None:
        self.sink = MailSink()
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=port or _free_port())
        self._controller.start()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def stop(self) -> None:
        self._controller.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
