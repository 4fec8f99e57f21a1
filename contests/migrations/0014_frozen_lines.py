from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Frozen lists move from a row per entry to runs of their published lines, a few
# thousand a row (see FrozenLines): closing and drawing a million entries no longer
# write and read a million rows. Lists already frozen are carried over, a contest at a
# time and a run at a time.
LINES_PER_ROW = 4000


async def carry_over(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"

    def numbered(sql: str) -> str:
        if not postgres:
            return sql
        parts = sql.split("?")
        return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]

    if postgres:
        # Compared byte by byte like the published list, whatever the database's collation.
        await client.execute_script(
            'ALTER TABLE frozen_lines ALTER COLUMN first_pseudonym TYPE VARCHAR(32) COLLATE "C"'
        )
    _, contests = await client.execute_query("SELECT DISTINCT contest_id FROM listed_entry")
    for (contest_id,) in [tuple(row) for row in contests]:
        position, after = 0, ""
        while True:
            _, rows = await client.execute_query(
                numbered(
                    "SELECT pseudonym, weight FROM listed_entry WHERE contest_id = ? "
                    "AND pseudonym > ? ORDER BY pseudonym LIMIT ?"
                ),
                [contest_id, after, LINES_PER_ROW],
            )
            if not rows:
                break
            lines = "".join(f"{row[0]} {row[1]}\n" for row in rows)
            await client.execute_query(
                numbered(
                    "INSERT INTO frozen_lines (contest_id, position, first_pseudonym, lines) "
                    "VALUES (?, ?, ?, ?)"
                ),
                [contest_id, position, rows[0][0], lines],
            )
            position, after = position + 1, rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [('models', '0013_listening')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FrozenLines',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='frozen_lines', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('first_pseudonym', fields.CharField(max_length=32)),
                ('lines', fields.TextField(unique=False)),
            ],
            options={'table': 'frozen_lines', 'app': 'models', 'unique_together': (('contest', 'position'),), 'indexes': [Index(fields=['contest_id', 'first_pseudonym'], name='frozen_lines_first')], 'pk_attr': 'id', 'table_description': "A run of consecutive lines of a closed contest's frozen list, as published."},
            bases=['Model'],
        ),
        ops.RunPython(carry_over),
        ops.DeleteModel(name='ListedEntry'),
    ]
