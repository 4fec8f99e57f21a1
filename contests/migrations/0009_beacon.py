from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from contests.migrations._operations import AddColumnWithDefault


# Contests published before this migration committed to version 1 of the draw (a chain
# from zeros, no beacon): they keep it, so their pages and certificates stay true.
class Migration(migrations.Migration):
    dependencies = [('models', '0008_marketer_roles')]

    initial = False

    operations = [
        AddColumnWithDefault(
            model_name='Contest',
            name='draw_format',
            field=fields.IntField(default=2),
            sql_default='1',
        ),
        ops.AddField(
            model_name='Contest',
            name='beacon',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='Draw',
            name='beacon_round',
            field=fields.JSONField(null=True),
        ),
        AddColumnWithDefault(
            model_name='Draw',
            name='beacon_problem',
            field=fields.CharField(max_length=300, default=''),
            sql_default="''",
        ),
        ops.AddField(
            model_name='Draw',
            name='beacon_checked_at',
            field=fields.DatetimeField(null=True),
        ),
    ]
