"""Database maintenance: ``db upgrade``."""

from __future__ import annotations

import os

import click

from store.database import open_engine, upgrade

from ..config import Config, load_config
from . import cli
from .common import clean_errors, config_option


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@config_option
@clean_errors
def db_upgrade(config_path: str) -> None:
    """Create or upgrade the schema (Alembic) on SQLite or PostgreSQL.

    \b
    Example:
      SESAKU_DATABASE_URL=postgresql+psycopg://monitor@db/monitor sesaku-monitor db upgrade
    """
    config = load_config(config_path) if os.path.exists(config_path) else Config()
    engine = open_engine(config.database.url, busy_timeout_s=config.database.busy_timeout_s, upgrade_sqlite=False, require_current=False)
    upgrade(engine)
    click.echo(f"database {engine.url.render_as_string(hide_password=True)} is up to date")
