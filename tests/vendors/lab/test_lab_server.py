"""LabServer: loopback only, free ports, HTTPS with a throw-away certificate."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from erp_core.lab import LabServer


def _app() -> Starlette:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"hola {request.url.scheme}")

    return Starlette(routes=[Route("/", hello)])


def test_serves_on_loopback_with_a_free_port() -> None:
    with LabServer(_app()) as first, LabServer(_app()) as second:
        assert first.port != second.port
        assert first.url.startswith("http://127.0.0.1:")
        assert httpx.get(first.url + "/").text == "hola http"
    with pytest.raises(httpx.ConnectError):
        httpx.get(first.url + "/", timeout=1)


def test_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = LabServer(_app()).url


def test_https_with_generated_certificate() -> None:
    with LabServer(_app(), https=True) as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert server.cert_path is not None
        response = httpx.get(server.url + "/", verify=server.client_ssl_context())
        assert response.text == "hola https"
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/")  # not trusted by default


async def test_async_context_manager() -> None:
    async with LabServer(_app()) as server, httpx.AsyncClient() as client:
        assert (await client.get(server.url + "/")).status_code == 200
