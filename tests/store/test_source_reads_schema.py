"""store.source_reads names a few columns of the schema again, as plain tables, so that `status`
loads no ORM: each of them must be a column of the models, of the same type."""

from __future__ import annotations

import pytest
from sqlalchemy import TableClause, inspect

import store.source_reads as source_reads
from store.database import open_engine
from store.models import Base

PLAIN_TABLES = [value for value in vars(source_reads).values() if isinstance(value, TableClause)]


def test_the_plain_tables_are_found():
    assert {table.name for table in PLAIN_TABLES} >= {"sources", "snapshots", "job_state", "links", "deliveries"}


# Tables only the migrations make (kept by triggers, so outside store.models): their columns are the schema's.
DERIVED = {"link_totals", "search_backlog"}


@pytest.mark.parametrize("plain", [t for t in PLAIN_TABLES if t.name in DERIVED], ids=lambda table: table.name)
def test_each_plain_column_of_a_derived_table_is_in_the_migrated_schema(plain, tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    columns = {column["name"] for column in inspect(engine).get_columns(plain.name)}
    engine.dispose()
    assert {column.name for column in plain.columns} <= columns


@pytest.mark.parametrize("plain", [t for t in PLAIN_TABLES if t.name not in DERIVED], ids=lambda table: table.name)
def test_each_plain_column_is_the_models_column_of_the_same_type(plain):
    model = Base.metadata.tables[plain.name]
    for column in plain.columns:
        assert column.name in model.columns, f"{plain.name}.{column.name} is not a column of store.models"
        modelled = model.columns[column.name].type
        assert type(column.type) is type(modelled) or isinstance(modelled, type(column.type)), \
            f"{plain.name}.{column.name}: {column.type!r} in store.source_reads, {modelled!r} in store.models"
