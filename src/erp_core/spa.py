"""Serve the built SvelteKit SPA: files as they are, deep links to index.html.

A missing path with a file extension is a real 404 (a broken asset must not turn into HTML),
and anything under /api that no router matched is a 404 in the envelope.

Text assets are sent gzip-compressed when the browser accepts it: the app's JavaScript is
~3x smaller on the wire, which is most of the first paint on a slow link (Lighthouse's
throttled profile). Each file is compressed once and kept in memory (the build is ~1 MB);
the cache key includes the file's mtime and size, so a rebuild is picked up.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from erp_core.errors import error_response

NOT_BUILT = """<!doctype html><html lang="es"><head><meta charset="utf-8">
<title>Jeturing Core</title></head><body style="background:#0F1419;color:#E6EEF5;
font-family:sans-serif;padding:3rem"><h1>Jeturing Core</h1>
<p>La interfaz no está compilada. Ejecute <code>make run</code> (o <code>make frontend</code>)
y recargue la página. La API está disponible en <a style="color:#00FF9F" href="/api/docs">/api/docs</a>.</p>
</body></html>"""


COMPRESSIBLE = {".js", ".css", ".html", ".svg", ".json", ".txt", ".map", ".webmanifest"}
MIN_COMPRESS_BYTES = 1024


@lru_cache(maxsize=512)
def _gzipped(path: Path, mtime_ns: int, size: int) -> bytes:
    """The file's gzip body; mtime and size are part of the key so a rebuild is not stale."""
    del mtime_ns, size
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


def _accepts_gzip(request: Request) -> bool:
    """`Accept-Encoding` names gzip (or `*`) with a non-zero quality."""
    for part in request.headers.get("accept-encoding", "").split(","):
        name, *params = (p.strip() for p in part.split(";"))
        if name.lower() not in ("gzip", "*"):
            continue
        quality = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            continue
    return False


def _file_response(path: Path, request: Request, cache: str) -> Response:
    """The file as it is, or gzip-compressed when it is text, not tiny, and accepted."""
    stat = path.stat()
    if (
        path.suffix in COMPRESSIBLE
        and stat.st_size >= MIN_COMPRESS_BYTES
        and _accepts_gzip(request)
    ):
        media = FileResponse(path).media_type
        return Response(
            _gzipped(path, stat.st_mtime_ns, stat.st_size),
            media_type=media,
            headers={
                "Cache-Control": cache,
                "Content-Encoding": "gzip",
                "Vary": "Accept-Encoding",
            },
        )
    return FileResponse(path, headers={"Cache-Control": cache, "Vary": "Accept-Encoding"})


def default_spa_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "frontend" / "build"


def mount_spa(app: FastAPI, spa_dir: Path) -> None:
    root = spa_dir.resolve()

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def spa(path: str, request: Request) -> Response:
        if path == "api" or path.startswith("api/"):
            return error_response(404, "NOT_FOUND", "La ruta solicitada no existe.")
        index = root / "index.html"
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            cache = (
                "public, max-age=31536000, immutable"
                if "/_app/immutable/" in f"/{path}"
                else "no-cache"
            )
            return _file_response(candidate, request, cache)
        if "." in path.rsplit("/", 1)[-1]:
            return error_response(404, "NOT_FOUND", "El archivo solicitado no existe.")
        if index.is_file():
            return _file_response(index, request, "no-cache")
        return HTMLResponse(NOT_BUILT)


def install_docs(app: FastAPI, openapi_url: str = "/api/openapi.json") -> None:
    """Serve Swagger UI at /api/docs from the `swagger-ui-bundle` package, not a CDN.

    The control plane often runs where the internet is not (a lab laptop, a locked-down
    network); FastAPI's default page pulls its JS/CSS from jsDelivr and stays blank there.
    """
    import swagger_ui_bundle  # the assets ship inside this PyPI package
    from fastapi.openapi.docs import get_swagger_ui_html

    assets = Path(swagger_ui_bundle.swagger_ui_path).resolve()
    allowed = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title="Jeturing Core API · documentación",
            swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/assets/swagger-ui.css",
            swagger_favicon_url="/api/docs/assets/favicon-32x32.png",
        )

    @app.get("/api/docs/assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        if name not in allowed:
            return error_response(404, "NOT_FOUND", "El archivo solicitado no existe.")
        return FileResponse(assets / name, headers={"Cache-Control": "public, max-age=86400"})
