from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

from contests.migrations._operations import AddColumnWithDefault, DropColumn

# The frozen list moves from one JSON value on the draw to a row per entry, and the
# stored certificate stops repeating it: set-based, so that it stays quick on big lists.
CARRY_OVER = {
    "sqlite": [
        "INSERT INTO listed_entry (contest_id, pseudonym, weight) "
        "SELECT d.contest_id, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]') "
        "FROM draw d, json_each(d.frozen_list) j",
        "UPDATE draw SET listed = json_array_length(frozen_list)",
        "UPDATE draw SET certificate = json_remove(certificate, '$.entries') "
        "WHERE certificate IS NOT NULL",
    ],
    "postgres": [
        # Sorted and compared byte by byte like the published list, whatever the
        # database's default collation; the unique index then serves ORDER BY pseudonym.
        'ALTER TABLE listed_entry ALTER COLUMN pseudonym TYPE VARCHAR(32) COLLATE "C"',
        "INSERT INTO listed_entry (contest_id, pseudonym, weight) "
        "SELECT d.contest_id, j.value->>0, (j.value->>1)::int "
        "FROM draw d, jsonb_array_elements(d.frozen_list) j",
        "UPDATE draw SET listed = jsonb_array_length(frozen_list)",
        "UPDATE draw SET certificate = certificate - 'entries' WHERE certificate IS NOT NULL",
    ],
}


async def carry_over(apps, schema_editor) -> None:
    client = schema_editor.client
    for statement in CARRY_OVER[client.capabilities.dialect]:
        await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [('models', '0002_step_registry')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ListedEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='listed_entries', on_delete=OnDelete.CASCADE)),
                ('pseudonym', fields.CharField(max_length=32)),
                ('weight', fields.IntField()),
            ],
            options={'table': 'listed_entry', 'app': 'models', 'unique_together': (('contest', 'pseudonym'),), 'pk_attr': 'id', 'table_description': "One line of a closed contest's frozen list: a pseudonymous id and its weight."},
            bases=['Model'],
        ),
        AddColumnWithDefault(
            model_name='Draw',
            name='listed',
            field=fields.IntField(default=0),
            sql_default="0",
        ),
        ops.RunPython(carry_over),
        DropColumn(model_name='Draw', name='frozen_list'),
    ]
