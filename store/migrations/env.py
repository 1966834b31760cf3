"""Alembic environment: migrations run on the engine store.database hands over."""

from __future__ import annotations

from alembic import context

from store.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
        context.run_migrations()


run_migrations()
