from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from contests.migrations._operations import AddColumnWithDefault


# Contests, prizes and steps in more than one language, eligibility declared at entry,
# and versioned rules. Every column is added in place with a default: existing contests
# are written in Spanish, ask no age and admit every country.
class Migration(migrations.Migration):
    dependencies = [('models', '0009_beacon')]

    initial = False

    operations = [
        AddColumnWithDefault(
            model_name='Contest',
            name='language',
            field=fields.CharField(default='es', max_length=8),
            sql_default="'es'",
        ),
        AddColumnWithDefault(
            model_name='Contest',
            name='texts',
            field=fields.JSONField(default=dict),
            sql_default="'{}'",
        ),
        AddColumnWithDefault(
            model_name='Contest',
            name='min_age',
            field=fields.IntField(default=0),
            sql_default='0',
        ),
        AddColumnWithDefault(
            model_name='Contest',
            name='countries',
            field=fields.JSONField(default=list),
            sql_default="'[]'",
        ),
        AddColumnWithDefault(
            model_name='Prize',
            name='texts',
            field=fields.JSONField(default=dict),
            sql_default="'{}'",
        ),
        AddColumnWithDefault(
            model_name='Step',
            name='texts',
            field=fields.JSONField(default=dict),
            sql_default="'{}'",
        ),
        ops.AddField(
            model_name='Entry',
            name='declared_age',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Entry',
            name='declared_country',
            field=fields.CharField(null=True, max_length=2),
        ),
        ops.CreateModel(
            name='RulesVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='rules_versions', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField()),
                ('texts', fields.JSONField(default=dict)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(default='', max_length=254)),
            ],
            options={'table': 'rules_version', 'app': 'models', 'unique_together': (('contest', 'version'),), 'pk_attr': 'id', 'table_description': 'The rules and privacy notice of a contest as they were at one version.'},
            bases=['Model'],
        ),
    ]
