from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


# What participants answer on the contest page (a quiz's tries, an opinion's words) and
# the brand's replies: a new table, so nothing existing is rebuilt.
class Migration(migrations.Migration):
    dependencies = [('models', '0004_journey')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Answer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.Entry', source_field='entry_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('step', fields.ForeignKeyField('models.Step', source_field='step_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('text', fields.TextField(default='', unique=False)),
                ('attempts', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reply', fields.TextField(default='', unique=False)),
                ('replied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('replied_by', fields.ForeignKeyField('models.Marketer', source_field='replied_by_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.SET_NULL)),
                ('replied_by_name', fields.CharField(default='', max_length=120)),
            ],
            options={'table': 'answer', 'app': 'models', 'unique_together': (('entry', 'step'),), 'indexes': [Index(fields=['step_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "What a participant answered for a step done from the contest page, and the brand's reply."},
            bases=['Model'],
        ),
    ]
