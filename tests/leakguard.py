"""Secrets must never reach a response body or a log record.

Fixtures register every secret they create; the root conftest attaches a log handler and an
httpx response hook that fail the test when one shows up.
"""

from __future__ import annotations

import logging

import httpx

SECRETS: set[str] = set()


def register_secret(*values: str | None) -> None:
    SECRETS.update(v for v in values if v and len(v) >= 8)


def leaked(text: str) -> list[str]:
    return [s[:4] + "…" for s in SECRETS if s in text]


class LeakRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + " " + " ".join(str(v) for v in record.__dict__.values())
        for hit in leaked(text):
            self.found.append(f"{record.name}: {hit}")


async def no_secret_in_response(response: httpx.Response) -> None:
    await response.aread()
    hits = leaked(response.text)
    assert hits == [], f"secret in response to {response.request.url}: {hits}"
