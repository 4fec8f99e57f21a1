from enum import StrEnum

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from contests.migrations._operations import AddColumnWithDefault, AlterFieldInState


# The enums as they were when this migration was written.
class WinnerStatus(StrEnum):
    SELECTED = "selected"
    NOTIFIED = "notified"
    REMINDED = "reminded"
    CLAIMED = "claimed"
    EXPIRED = "expired"
    DISQUALIFIED = "disqualified"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    CAPTURED = "captured"
    FAILED = "failed"


# Winners drawn before claims existed keep "selected": they were emailed "we will be in
# touch", and nothing here can tell them more.
class Migration(migrations.Migration):
    dependencies = [('models', '0010_contest_content')]

    initial = False

    operations = [
        AddColumnWithDefault(
            model_name='Contest',
            name='claim_days',
            field=fields.IntField(default=14),
            sql_default="14",
        ),
        AddColumnWithDefault(
            model_name='Contest',
            name='claim_fields',
            field=fields.JSONField(default=list),
            sql_default="'[]'",
        ),
        AlterFieldInState(
            model_name='Winner',
            name='status',
            field=fields.CharEnumField(default=WinnerStatus.SELECTED, description='SELECTED: selected\nNOTIFIED: notified\nREMINDED: reminded\nCLAIMED: claimed\nEXPIRED: expired\nDISQUALIFIED: disqualified', enum_type=WinnerStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Winner',
            name='notified_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Winner',
            name='claim_deadline',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        AddColumnWithDefault(
            model_name='Winner',
            name='reminders',
            field=fields.IntField(default=0),
            sql_default="0",
        ),
        ops.AddField(
            model_name='Winner',
            name='claimed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        AddColumnWithDefault(
            model_name='Winner',
            name='claim_data',
            field=fields.JSONField(default=dict),
            sql_default="'{}'",
        ),
        AddColumnWithDefault(
            model_name='Winner',
            name='reason',
            field=fields.CharField(default='', max_length=300),
            sql_default="''",
        ),
        ops.AddField(
            model_name='Winner',
            name='replaced_by_rank',
            field=fields.IntField(null=True),
        ),
        AlterFieldInState(
            model_name='Outbox',
            name='status',
            field=fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nCAPTURED: captured\nFAILED: failed', enum_type=OutboxStatus, max_length=16),
        ),
        AddColumnWithDefault(
            model_name='Outbox',
            name='message_id',
            field=fields.CharField(default='', max_length=200),
            sql_default="''",
        ),
        ops.AddField(
            model_name='Outbox',
            name='lease_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
