from enum import StrEnum

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


# The enums as they were when this migration was written.
class ReviewDecision(StrEnum):
    CLEARED = "cleared"
    DISQUALIFIED = "disqualified"


# Review decisions, and what participants and the brand say to each other.
class Migration(migrations.Migration):
    dependencies = [('models', '0008_marketer_roles')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Review',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.CASCADE)),
                ('entry', fields.OneToOneField('models.Entry', source_field='entry_id', db_constraint=True, to_field='id', related_name='review', on_delete=OnDelete.CASCADE)),
                ('decision', fields.CharEnumField(description='CLEARED: cleared\nDISQUALIFIED: disqualified', enum_type=ReviewDecision, max_length=16)),
                ('reason', fields.TextField(default='', unique=False)),
                ('reviewer', fields.ForeignKeyField('models.Marketer', source_field='reviewer_id', null=True, db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.SET_NULL)),
                ('reviewer_name', fields.CharField(default='', max_length=120)),
                ('decided_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'review', 'app': 'models', 'indexes': [Index(fields=['contest_id', 'decided_at'], name='review_contest')], 'pk_attr': 'id', 'table_description': "A person's decision on a flagged entry: cleared, or disqualified, with the reason."},
            bases=['Model'],
        ),
    ]
