from enum import StrEnum

from tortoise import migrations
from tortoise.migrations import operations as ops
from contests.ids import public_id
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


# The enums as they were when this migration was written.
class ReviewDecision(StrEnum):
    CLEARED = "cleared"
    DISQUALIFIED = "disqualified"


# Review decisions, and what participants and the brand say to each other.
class Migration(migrations.Migration):
    dependencies = [('models', '0012_brand_look')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BrandOptIn',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('brand', fields.ForeignKeyField('models.Brand', source_field='brand_id', db_constraint=True, to_field='id', related_name='opt_ins', on_delete=OnDelete.CASCADE)),
                ('participant', fields.ForeignKeyField('models.Participant', source_field='participant_id', db_constraint=True, to_field='id', related_name='opt_ins', on_delete=OnDelete.CASCADE)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', null=True, db_constraint=True, to_field='id', related_name='opt_ins', on_delete=OnDelete.SET_NULL)),
                ('text', fields.TextField(unique=False)),
                ('locale', fields.CharField(max_length=8)),
                ('given_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'brand_opt_in', 'app': 'models', 'unique_together': (('brand', 'participant'),), 'indexes': [Index(fields=['brand_id', 'withdrawn_at', 'id'], name='brand_opt_in_list')], 'pk_attr': 'id', 'table_description': "A participant's wish to hear from a brand after its contests, in the words they ticked."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('public_id', fields.CharField(default=public_id, unique=True, max_length=32)),
                ('brand', fields.ForeignKeyField('models.Brand', source_field='brand_id', db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.CASCADE)),
                ('participant', fields.ForeignKeyField('models.Participant', source_field='participant_id', db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.CASCADE)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', null=True, db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.SET_NULL)),
                ('assigned_to', fields.ForeignKeyField('models.Marketer', source_field='assigned_to_id', null=True, db_constraint=True, to_field='id', related_name='assigned', on_delete=OnDelete.SET_NULL)),
                ('unread', fields.BooleanField(default=True)),
                ('last_message_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'conversation', 'app': 'models', 'unique_together': (('brand', 'participant'),), 'indexes': [Index(fields=['brand_id', 'unread', 'last_message_at', 'id'], name='conversation_inbox')], 'pk_attr': 'id', 'table_description': "A participant's direct channel with a brand: one thread per person and brand."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConversationMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('models.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('from_brand', fields.BooleanField(default=False)),
                ('marketer', fields.ForeignKeyField('models.Marketer', source_field='marketer_id', null=True, db_constraint=True, to_field='id', related_name='messages_sent', on_delete=OnDelete.SET_NULL)),
                ('signed', fields.CharField(default='', max_length=120)),
                ('text', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'conversation_message', 'app': 'models', 'indexes': [Index(fields=['conversation_id', 'id'], name='conversation_message_thread')], 'pk_attr': 'id', 'table_description': 'One message of a conversation, from the participant or from a marketer, by name.'},
            bases=['Model'],
        ),
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
        ops.AddField(
            model_name='Answer',
            name='on_wall_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Answer',
            name='publish_consent_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Answer',
            index=Index(fields=['on_wall_at'], name='answer_wall'),
        ),
        ops.AddIndex(
            model_name='Entry',
            index=Index(fields=['contest_id', 'created_at'], name='entry_contest_created'),
        ),
    ]
