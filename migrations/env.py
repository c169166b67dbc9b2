"""Alembic environment: runs on the engine the application hands over (see core.db.migrate)."""
from alembic import context

import accounts.models  # noqa: F401  every package's models register on Base.metadata
import agents.models  # noqa: F401
import budget.models  # noqa: F401
import catalog.models  # noqa: F401
import core.audit  # noqa: F401
import dashboards.models  # noqa: F401
import discovery.models  # noqa: F401
import inventory.models  # noqa: F401
from core.db import Base, make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite's own procedure for changing a table (sqlite.org/lang_altertable.html): foreign keys off, outside
        # the transaction (a PRAGMA inside one does nothing), so that batch mode's drop of a table's old copy
        # deletes nothing that points to it; they are checked before the migrations commit.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    # render_as_batch: SQLite can only alter a table by copying it; Alembic's batch mode does that.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"the migrations left rows whose references lead nowhere: {broken[:10]}")
    connection.commit()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
