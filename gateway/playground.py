"""`GET /`: the playground page, static files shipped in the package (no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles

__all__ = ["PLAYGROUND_DIR", "install_playground"]

PLAYGROUND_DIR = Path(__file__).with_name("playground")


def install_playground(app: FastAPI) -> None:
    """Serve index.html at `/` and its assets under `/playground/`."""

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(PLAYGROUND_DIR / "index.html")

    app.mount("/playground", StaticFiles(directory=PLAYGROUND_DIR), name="playground")
