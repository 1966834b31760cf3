"""``serve``: the read-only web view, Atom feeds and JSON API (see web/)."""

from __future__ import annotations

import click

from monitor.cli.options import clean_errors, config_option


@click.command()
@config_option
@click.option("--host", default=None, help="Address to bind (default: web.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: web.port, 8080).")
@clean_errors
def serve(config_path: str, host: str | None, port: int | None) -> None:
    """Serve the web view of the database: changes, lists as of a day, measure histories, link health, feeds.

    Read-only (GET and HEAD only). Binds 127.0.0.1 unless told otherwise; set web.token or
    web.password (from ${VAR}) before binding anything else.

    \b
    Example:
      sesaku-monitor serve --config config.yaml          # http://127.0.0.1:8080
    """
    from monitor.config import load_config
    from web import serve as serve_web  # FastAPI loads only for the command that needs it

    config = load_config(config_path)
    # The address given here is the one feeds link to when web.base_url is unset.
    web = config.web.model_copy(update={"host": host or config.web.host, "port": port or config.web.port})
    click.echo(f"serving on http://{web.host}:{web.port} (Ctrl-C stops)", err=True)
    serve_web(config.model_copy(update={"web": web}))
