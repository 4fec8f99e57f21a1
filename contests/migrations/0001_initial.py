from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from enum import StrEnum
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields


# The enums as they were when this migration was written: a migration is a snapshot,
# so later changes to the models must not change what it creates.
class ContestStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"
    CLOSED = "closed"
    DRAWN = "drawn"
    ARCHIVED = "archived"


class StepKind(StrEnum):
    VISIT = "visit"
    CODE = "code"


class EntryStatus(StrEnum):
    ACTIVE = "active"
    FLAGGED = "flagged"
    DISQUALIFIED = "disqualified"


class VisitStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class WinnerStatus(StrEnum):
    SELECTED = "selected"
    NOTIFIED = "notified"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CAPTURED = "captured"
    FAILED = "failed"


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Brand',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=120)),
                ('site_domains', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reply_to', fields.CharField(max_length=254)),
                ('public_key', fields.CharField(unique=True, max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'brand', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditLog',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('brand', fields.ForeignKeyField('models.Brand', source_field='brand_id', null=True, db_constraint=True, to_field='id', related_name='audit', on_delete=OnDelete.SET_NULL)),
                ('actor', fields.CharField(max_length=254)),
                ('action', fields.CharField(max_length=60)),
                ('target', fields.CharField(default='', max_length=120)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'audit_log', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Contest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('brand', fields.ForeignKeyField('models.Brand', source_field='brand_id', db_constraint=True, to_field='id', related_name='contests', on_delete=OnDelete.CASCADE)),
                ('slug', fields.CharField(unique=True, max_length=80)),
                ('title', fields.CharField(max_length=160)),
                ('description', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=ContestStatus.DRAFT, description='DRAFT: draft\nSCHEDULED: scheduled\nLIVE: live\nCLOSED: closed\nDRAWN: drawn\nARCHIVED: archived', enum_type=ContestStatus, max_length=16)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('timezone', fields.CharField(default='Europe/Madrid', max_length=64)),
                ('alternates', fields.IntField(default=2)),
                ('rules_version', fields.CharField(default='1', max_length=32)),
                ('seed', fields.CharField(null=True, max_length=64)),
                ('seed_commitment', fields.CharField(null=True, max_length=64)),
                ('entry_chain_head', fields.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'contest', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Draw',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.OneToOneField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='draw', on_delete=OnDelete.CASCADE)),
                ('frozen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('list_digest', fields.CharField(max_length=64)),
                ('chain_head', fields.CharField(max_length=64)),
                ('frozen_list', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('public_randomness', fields.CharField(default='', max_length=200)),
                ('drawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('certificate', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'draw', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Outbox',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('dedupe_key', fields.CharField(unique=True, max_length=120)),
                ('kind', fields.CharField(max_length=40)),
                ('brand', fields.ForeignKeyField('models.Brand', source_field='brand_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.SET_NULL)),
                ('to_email', fields.CharField(max_length=254)),
                ('to_name', fields.CharField(default='', max_length=120)),
                ('reply_to', fields.CharField(default='', max_length=254)),
                ('locale', fields.CharField(max_length=8)),
                ('subject', fields.CharField(max_length=200)),
                ('text_body', fields.TextField(unique=False)),
                ('html_body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: pending\nSENT: sent\nCAPTURED: captured\nFAILED: failed', enum_type=OutboxStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox', 'app': 'models', 'pk_attr': 'id', 'table_description': "Every email, composed in the recipient's language, waiting to be sent."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Participant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('public_id', fields.CharField(unique=True, max_length=32)),
                ('display_name', fields.CharField(default='', max_length=120)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('email_verified', fields.BooleanField(default=False)),
                ('locale', fields.CharField(default='es', max_length=8)),
                ('avatar_url', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'participant', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person with an account: everyone who signs in, marketers included.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Entry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.CASCADE)),
                ('participant', fields.ForeignKeyField('models.Participant', source_field='participant_id', null=True, db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.SET_NULL)),
                ('public_id', fields.CharField(unique=True, max_length=32)),
                ('status', fields.CharEnumField(default=EntryStatus.ACTIVE, description='ACTIVE: active\nFLAGGED: flagged\nDISQUALIFIED: disqualified', enum_type=EntryStatus, max_length=16)),
                ('locale', fields.CharField(default='es', max_length=8)),
                ('consent_version', fields.CharField(max_length=32)),
                ('consented_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('chain_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'entry', 'app': 'models', 'unique_together': (('contest', 'participant'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Identity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('participant', fields.ForeignKeyField('models.Participant', source_field='participant_id', db_constraint=True, to_field='id', related_name='identities', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharField(max_length=40)),
                ('subject', fields.CharField(max_length=255)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('email_verified', fields.BooleanField(default=False)),
                ('display_name', fields.CharField(default='', max_length=120)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'identity', 'app': 'models', 'unique_together': (('provider', 'subject'),), 'pk_attr': 'id', 'table_description': 'One sign-in identity: (provider, subject) is the only key, never the email.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Marketer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('brand', fields.ForeignKeyField('models.Brand', source_field='brand_id', db_constraint=True, to_field='id', related_name='marketers', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(max_length=254)),
                ('name', fields.CharField(default='', max_length=120)),
                ('participant', fields.ForeignKeyField('models.Participant', source_field='participant_id', null=True, db_constraint=True, to_field='id', related_name='marketer_roles', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'marketer', 'app': 'models', 'unique_together': (('brand', 'email'),), 'pk_attr': 'id', 'table_description': "Someone allowed into a brand's console, linked to an account at first sign-in."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Prize',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='prizes', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=160)),
                ('description', fields.TextField(default='', unique=False)),
                ('quantity', fields.IntField(default=1)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'prize', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignInLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('email', fields.CharField(max_length=254)),
                ('next_path', fields.CharField(default='/', max_length=500)),
                ('locale', fields.CharField(default='es', max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sign_in_link', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An emailed sign-in link: only the hash of its token is kept.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Step',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.CASCADE)),
                ('public_id', fields.CharField(unique=True, max_length=32)),
                ('position', fields.IntField(default=0)),
                ('kind', fields.CharEnumField(description='VISIT: visit\nCODE: code', enum_type=StepKind, max_length=16)),
                ('title', fields.CharField(max_length=160)),
                ('clue', fields.TextField(default='', unique=False)),
                ('points', fields.IntField(default=1)),
                ('required', fields.BooleanField(default=True)),
                ('unlocks_after', fields.ForeignKeyField('models.Step', source_field='unlocks_after_id', null=True, db_constraint=True, to_field='id', related_name='unlocks', on_delete=OnDelete.SET_NULL)),
                ('target_url', fields.CharField(null=True, max_length=500)),
                ('dwell_seconds', fields.IntField(default=5)),
                ('code_hash', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'step', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Completion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.Entry', source_field='entry_id', db_constraint=True, to_field='id', related_name='completions', on_delete=OnDelete.CASCADE)),
                ('step', fields.ForeignKeyField('models.Step', source_field='step_id', db_constraint=True, to_field='id', related_name='completions', on_delete=OnDelete.CASCADE)),
                ('points', fields.IntField()),
                ('completed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'completion', 'app': 'models', 'unique_together': (('entry', 'step'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VisitReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('nonce', fields.CharField(unique=True, max_length=32)),
                ('entry', fields.ForeignKeyField('models.Entry', source_field='entry_id', db_constraint=True, to_field='id', related_name='visit_reports', on_delete=OnDelete.CASCADE)),
                ('step', fields.ForeignKeyField('models.Step', source_field='step_id', db_constraint=True, to_field='id', related_name='visit_reports', on_delete=OnDelete.CASCADE)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('page_url', fields.CharField(max_length=500)),
                ('status', fields.CharEnumField(default=VisitStatus.PENDING, description='PENDING: pending\nVERIFIED: verified\nREJECTED: rejected', enum_type=VisitStatus, max_length=16)),
                ('reason', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'visit_report', 'app': 'models', 'pk_attr': 'id', 'table_description': "A visit reported by the brand page's snippet, waiting for a worker's verdict."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebSession',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('participant', fields.ForeignKeyField('models.Participant', source_field='participant_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'web_session', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Server-side half of a session, so signing out ends it everywhere.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Winner',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest', fields.ForeignKeyField('models.Contest', source_field='contest_id', db_constraint=True, to_field='id', related_name='winners', on_delete=OnDelete.CASCADE)),
                ('entry', fields.ForeignKeyField('models.Entry', source_field='entry_id', db_constraint=True, to_field='id', related_name='wins', on_delete=OnDelete.CASCADE)),
                ('prize', fields.ForeignKeyField('models.Prize', source_field='prize_id', null=True, db_constraint=True, to_field='id', related_name='winners', on_delete=OnDelete.SET_NULL)),
                ('rank', fields.IntField()),
                ('alternate', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=WinnerStatus.SELECTED, description='SELECTED: selected\nNOTIFIED: notified', enum_type=WinnerStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'winner', 'app': 'models', 'unique_together': (('contest', 'entry'), ('contest', 'rank')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
