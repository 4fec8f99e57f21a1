"""Operations shared by migrations (the loader skips modules whose name starts with _)."""

from __future__ import annotations

from tortoise.migrations import operations as ops


class AlterFieldInState(ops.AlterField):
    """Only the field's Python type or description changes, not its column: SQLite's
    table rebuild would drop unique-together indexes and cascade deletes, so the
    database is left as it is."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None


class DropColumn(ops.RemoveField):
    """SQLite drops a plain column in place (3.35 and later) instead of rebuilding the
    table, which would delete the rows that reference it through ON DELETE CASCADE."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            table = old_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
            await state_editor.client.execute_script(
                f'ALTER TABLE "{table}" DROP COLUMN "{self.name}"'
            )
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class AddColumnWithDefault(ops.AddField):
    """A NOT NULL column for a table that has rows: the database needs the default too
    (SQLite refuses the column without one), added in place rather than by a rebuild."""

    def __init__(self, *, sql_type: dict[str, str], default_sql: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sql_type = sql_type
        self.default_sql = default_sql

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None:
            return
        table = new_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
        sql_type = self.sql_type[state_editor.client.capabilities.dialect]
        await state_editor.client.execute_script(
            f'ALTER TABLE "{table}" ADD COLUMN "{self.name}" {sql_type} '
            f"NOT NULL DEFAULT {self.default_sql}"
        )
