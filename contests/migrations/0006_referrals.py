from enum import StrEnum

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from contests.migrations._operations import AddColumnWithDefault


# The enum as it was when this migration was written.
class ReferralStatus(StrEnum):
    PENDING = "pending"
    CREDITED = "credited"
    REFUSED = "refused"


def random_code() -> str:
    # The models' default for new entries; existing ones get theirs from the database.
    import secrets

    return secrets.token_urlsafe(12)


# Every entry already there gets its own random referral code, set-based so that it stays
# quick on big tables: 96 bits from SQLite's randomness, 122 from PostgreSQL's UUIDs.
REFERRAL_CODES = {
    "sqlite": "UPDATE entry SET referral_code = lower(hex(randomblob(12)))",
    "postgres": "UPDATE entry SET referral_code = replace(gen_random_uuid()::text, '-', '')",
}


class AddReferralCodes(AddColumnWithDefault):
    """The referral code column, filled with a random code per entry, then made unique."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None:
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)
        client = state_editor.client
        await client.execute_script(REFERRAL_CODES[client.capabilities.dialect])
        await client.execute_script(
            'CREATE UNIQUE INDEX "uid_entry_referral_code" ON "entry" ("referral_code")'
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0005_answers')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FraudFlag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='flags', on_delete=OnDelete.CASCADE)),
                ('entry', fields.ForeignKeyField('models.Entry', source_field='entry_id', db_constraint=True, to_field='id', related_name='flags', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharField(max_length=32)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fraud_flag', 'app': 'models', 'unique_together': (('entry', 'reason'),), 'indexes': [Index(fields=['contest_id', 'entry_id'], name='fraud_flag_contest')], 'pk_attr': 'id', 'table_description': 'A reason to review an entry: flagged entries stay in the contest until a person decides.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Referral',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='referrals', on_delete=OnDelete.CASCADE)),
                ('referrer', fields.ForeignKeyField('models.Entry', source_field='referrer_id', null=True, db_constraint=True, to_field='id', related_name='referrals_made', on_delete=OnDelete.CASCADE)),
                ('referred', fields.OneToOneField('models.Entry', source_field='referred_id', db_constraint=True, to_field='id', related_name='referred_by', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(default='', max_length=32)),
                ('status', fields.CharEnumField(default=ReferralStatus.PENDING, description='PENDING: pending\nCREDITED: credited\nREFUSED: refused', enum_type=ReferralStatus, max_length=16)),
                ('reason', fields.CharField(default='', max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('credited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'referral', 'app': 'models', 'indexes': [Index(fields=['contest_id', 'status', 'referrer_id'], name='referral_leaders'), Index(fields=['referrer_id', 'status'], name='referral_referrer')], 'pk_attr': 'id', 'table_description': "Someone who entered through another entry's referral link."},
            bases=['Model'],
        ),
        AddColumnWithDefault(
            model_name='Contest',
            name='referral_leaderboard',
            field=fields.BooleanField(default=False),
            sql_default='FALSE',
        ),
        ops.AddField(
            model_name='Entry',
            name='device_hash',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Entry',
            name='network_hash',
            field=fields.CharField(null=True, max_length=32),
        ),
        AddReferralCodes(
            model_name='Entry',
            name='referral_code',
            field=fields.CharField(default=random_code, unique=True, max_length=32),
            sql_default="''",
        ),
        ops.AddIndex(
            model_name='Entry',
            index=Index(fields=['contest_id', 'device_hash'], name='entry_contest_device'),
        ),
        ops.AddIndex(
            model_name='Entry',
            index=Index(fields=['contest_id', 'network_hash'], name='entry_contest_network'),
        ),
        ops.AddIndex(
            model_name='Entry',
            index=Index(fields=['participant_id'], name='entry_participant'),
        ),
    ]
