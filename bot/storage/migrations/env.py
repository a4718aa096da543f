"""Alembic environment: run by `bot.storage.db.migrate` with an open connection, never from
alembic.ini.

`bot.storage.db` passes the connection in `config.attributes["connection"]`; migrations run in the
caller's transaction so that a failed upgrade leaves the database as it was.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import bot.storage.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.storage.db import VERSION_TABLE

config = context.config
connection = config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "bot/storage/migrations runs only through bot.storage.db.migrate(engine), which passes"
        " the connection"
    )

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    version_table=VERSION_TABLE,
    # SQLite cannot ALTER most things; batch mode recreates the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
