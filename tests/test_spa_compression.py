"""The SPA's text assets go out gzip-compressed when the browser accepts it (the app's first
paint on a slow link depends on it); what the browser decodes is the file, byte for byte."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from erp_core.context import AppContext
from erp_core.main import create_app

SCRIPT = ("export const palabras = " + repr(["Cargando", "Guardar"] * 400) + ";\n").encode()


@pytest.fixture
async def spa_client(ctx: AppContext, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    (tmp_path / "_app" / "immutable").mkdir(parents=True)
    (tmp_path / "_app" / "immutable" / "app.js").write_bytes(SCRIPT)
    (tmp_path / "favicon.svg").write_bytes(b"<svg/>")
    (tmp_path / "index.html").write_bytes(b"<!doctype html><title>x</title>" + b" " * 2000)
    app = create_app(ctx=ctx, spa_dir=tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_assets_are_gzipped_only_when_accepted(spa_client: httpx.AsyncClient) -> None:
    path = "/_app/immutable/app.js"
    zipped = await spa_client.get(path, headers={"Accept-Encoding": "gzip, br"})
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert "immutable" in zipped.headers["cache-control"]
    assert zipped.content == SCRIPT  # httpx decodes: the browser gets the same file
    assert int(zipped.headers["content-length"]) < len(SCRIPT) / 3

    plain = await spa_client.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == SCRIPT
    refused = await spa_client.get(path, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


async def test_deep_links_compressed_and_tiny_files_left_alone(
    spa_client: httpx.AsyncClient,
) -> None:
    page = await spa_client.get("/tenants/3", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and page.text.startswith("<!doctype")
    assert page.headers["cache-control"] == "no-cache"
    icon = await spa_client.get("/favicon.svg", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in icon.headers and icon.content == b"<svg/>"
