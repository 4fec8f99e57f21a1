from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

from contests.migrations._operations import AddColumnWithDefault

# The contest page shows how many people take part: a count kept on the contest row,
# raised as each entry joins, instead of counting a million entries on every view.
COUNT_ENTRIES = (
    "UPDATE contest SET entry_count = "
    "(SELECT COUNT(*) FROM entry WHERE entry.contest_id = contest.id)"
)


async def count_existing_entries(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(COUNT_ENTRIES)


class Migration(migrations.Migration):
    dependencies = [('models', '0003_listed_entries')]

    initial = False

    operations = [
        AddColumnWithDefault(
            model_name='Contest',
            name='entry_count',
            field=fields.IntField(default=0),
            sql_default="0",
        ),
        ops.RunPython(count_existing_entries),
    ]
