from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from contests.migrations._operations import AddColumnWithDefault


# A contest may be drawn without a public beacon by its organiser's explicit choice,
# off for every contest already there; the console's entrants list filters by the
# country declared at entry, newest first, from an index instead of the contest's
# every entry.
class Migration(migrations.Migration):
    dependencies = [('models', '0015_evidence_pending')]

    initial = False

    operations = [
        AddColumnWithDefault(
            model_name='Contest',
            name='draw_without_beacon',
            field=fields.BooleanField(default=False),
            sql_default='FALSE',
        ),
        ops.AddIndex(
            model_name='Entry',
            index=Index(fields=['contest_id', 'declared_country', 'id'], name='entry_contest_country'),
        ),
    ]
