from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# The contest page shows how many people take part: a count kept on the contest row,
# raised as each entry joins, instead of counting a million entries on every view.
COUNT_ENTRIES = (
    "UPDATE contest SET entry_count = "
    "(SELECT COUNT(*) FROM entry WHERE entry.contest_id = contest.id)"
)


async def count_existing_entries(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(COUNT_ENTRIES)


class AddCountColumn(ops.AddField):
    """Existing rows need a value: the column gets its default in the database too
    (SQLite refuses a NOT NULL column without one, and an in-place ALTER never rebuilds
    the table, which would cascade deletes)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None:
            return
        await state_editor.client.execute_script(
            f"ALTER TABLE contest ADD COLUMN {self.name} INT NOT NULL DEFAULT 0"
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0002_step_registry')]

    initial = False

    operations = [
        AddCountColumn(
            model_name='Contest',
            name='entry_count',
            field=fields.IntField(default=0),
        ),
        ops.RunPython(count_existing_entries),
    ]
