"""Operations the migrations share (kept outside models/migrations, where every module is a migration)."""

from __future__ import annotations

from typing import Any

from tortoise.migrations import operations as ops


class PostgresOnlySQL(ops.RunSQL):  # type: ignore[misc]
    """SQL that only PostgreSQL runs: storage settings SQLite lacks (fillfactor), or constraints it
    cannot drop in place. The embedded SQLite database (one process, one writer) keeps its schema."""

    async def database_forward(self, app_label: Any, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        if state_editor is not None and state_editor.DIALECT == "postgres":
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label: Any, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        if state_editor is not None and state_editor.DIALECT == "postgres":
            await super().database_backward(app_label, old_state, new_state, state_editor)


class DeclareField(ops.AddField):  # type: ignore[misc]
    """A model's field for the migration state only, beside SQL that adds the column in place: SQLite's
    AddField reverse rebuilds the table from the model state, which turned 0024's partial index into a
    plain UNIQUE and broke 0024's reverse."""

    async def database_forward(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def database_backward(self, *args: Any, **kwargs: Any) -> None:
        return None
