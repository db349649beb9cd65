"""Serve the built SvelteKit SPA: files as they are, deep links to index.html.

A missing path with a file extension is a real 404 (a broken asset must not turn into HTML),
and anything under /api that no router matched is a 404 in the envelope.
"""

from __future__ import annotations

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
            return FileResponse(candidate, headers={"Cache-Control": cache})
        if "." in path.rsplit("/", 1)[-1]:
            return error_response(404, "NOT_FOUND", "El archivo solicitado no existe.")
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
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
