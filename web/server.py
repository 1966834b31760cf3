"""``serve``: the web view under uvicorn, on 127.0.0.1:8080 unless the config says otherwise."""

from __future__ import annotations

import uvicorn

from monitor.config import Config

from web.app import create_app

__all__ = ["serve"]


def serve(config: Config, *, host: str | None = None, port: int | None = None) -> None:
    """Run until interrupted; the store is opened (and a SQLite file upgraded) before binding."""
    app = create_app(config)
    uvicorn.run(app, host=host or config.web.host, port=port or config.web.port, log_level="warning", proxy_headers=False, server_header=False)
