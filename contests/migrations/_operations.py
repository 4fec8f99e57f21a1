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
    """A NOT NULL column on a table that may have rows: the database gets a default too
    (SQLite refuses the column without one). Added in place: SQLite's table rebuild
    would delete the rows that reference the table through ON DELETE CASCADE."""

    def __init__(self, model_name, name, field, sql_default: str) -> None:
        super().__init__(model_name=model_name, name=name, field=field)
        self.sql_default = sql_default

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None:
            return
        model = new_state.apps.get_model(f"{app_label}.{self.model_name}")
        field = model._meta.fields_map[self.name]
        sql_type = field.get_for_dialect(state_editor.client.capabilities.dialect, "SQL_TYPE")
        await state_editor.client.execute_script(
            f'ALTER TABLE "{model._meta.db_table}" ADD COLUMN "{self.name}" {sql_type} '
            f"NOT NULL DEFAULT {self.sql_default}"
        )
