"""Alembic environment: runs on the engine the application hands over (see core.db.migrate)."""
from alembic import context

import accounts.models  # noqa: F401  every package's models register on Base.metadata
import agents.models  # noqa: F401
import budget.models  # noqa: F401
import catalog.models  # noqa: F401
import core.audit  # noqa: F401
import discovery.models  # noqa: F401
import inventory.models  # noqa: F401
from core.db import Base, make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    # render_as_batch: SQLite can only alter a table by copying it; Alembic's batch mode does that.
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
