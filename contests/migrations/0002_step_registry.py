from enum import StrEnum

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

from contests.migrations._operations import AlterFieldInState, DropColumn


# The enums as they were when this migration was written (see 0001).
class ContestStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"
    CLOSED = "closed"
    DRAWN = "drawn"


class EntryStatus(StrEnum):
    ACTIVE = "active"
    DISQUALIFIED = "disqualified"


class EvidenceStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class WinnerStatus(StrEnum):
    SELECTED = "selected"


# Step settings move from one column per kind to the kind's own JSON settings, and
# visit reports become evidence, set-based so that it stays quick on big tables.
STEP_CONFIG = {
    "sqlite": (
        "UPDATE step SET config = CASE WHEN kind = 'visit' "
        "THEN json_object('target_url', COALESCE(target_url, ''), 'dwell_seconds', dwell_seconds) "
        "ELSE json_object('code_hash', COALESCE(code_hash, '')) END"
    ),
    "postgres": (
        "UPDATE step SET config = CASE WHEN kind = 'visit' "
        "THEN jsonb_build_object('target_url', COALESCE(target_url, ''), 'dwell_seconds', dwell_seconds) "
        "ELSE jsonb_build_object('code_hash', COALESCE(code_hash, '')) END"
    ),
}
EVIDENCE = {
    "sqlite": (
        "INSERT INTO evidence (nonce, entry_id, step_id, reported_at, data, status, reason) "
        "SELECT nonce, entry_id, step_id, reported_at, "
        "json_object('started_at', started_at, 'page_url', page_url), status, reason "
        "FROM visit_report ORDER BY id"
    ),
    "postgres": (
        "INSERT INTO evidence (nonce, entry_id, step_id, reported_at, data, status, reason) "
        "SELECT nonce, entry_id, step_id, reported_at, "
        "jsonb_build_object('started_at', started_at, 'page_url', page_url), status, reason "
        "FROM visit_report ORDER BY id"
    ),
}


async def carry_over(apps, schema_editor) -> None:
    client = schema_editor.client
    dialect = client.capabilities.dialect
    await client.execute_script(STEP_CONFIG[dialect])
    await client.execute_script(EVIDENCE[dialect])


class AddSettingsColumn(ops.AddField):
    """Existing rows need a value: the column gets one in the database too (SQLite
    refuses a NOT NULL column without it), then each kind's settings are filled in."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None:
            return
        sql_type = {"sqlite": "JSON", "postgres": "JSONB"}[state_editor.client.capabilities.dialect]
        await state_editor.client.execute_script(
            f"ALTER TABLE step ADD COLUMN {self.name} {sql_type} NOT NULL DEFAULT '{{}}'"
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Evidence',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('nonce', fields.CharField(unique=True, max_length=32)),
                ('entry', fields.ForeignKeyField('models.Entry', source_field='entry_id', db_constraint=True, to_field='id', related_name='evidence', on_delete=OnDelete.CASCADE)),
                ('step', fields.ForeignKeyField('models.Step', source_field='step_id', db_constraint=True, to_field='id', related_name='evidence', on_delete=OnDelete.CASCADE)),
                ('reported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=EvidenceStatus.PENDING, description='PENDING: pending\nVERIFIED: verified\nREJECTED: rejected', enum_type=EvidenceStatus, max_length=16)),
                ('reason', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'evidence', 'app': 'models', 'pk_attr': 'id', 'table_description': "Proof of a step reported from elsewhere, waiting for a worker's verdict."},
            bases=['Model'],
        ),
        AddSettingsColumn(
            model_name='Step',
            name='config',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.RunPython(carry_over),
        AlterFieldInState(
            model_name='Contest',
            name='status',
            field=fields.CharEnumField(default=ContestStatus.DRAFT, description='DRAFT: draft\nSCHEDULED: scheduled\nLIVE: live\nCLOSED: closed\nDRAWN: drawn', enum_type=ContestStatus, max_length=16),
        ),
        AlterFieldInState(
            model_name='Entry',
            name='status',
            field=fields.CharEnumField(default=EntryStatus.ACTIVE, description='ACTIVE: active\nDISQUALIFIED: disqualified', enum_type=EntryStatus, max_length=16),
        ),
        AlterFieldInState(
            model_name='Step',
            name='kind',
            field=fields.CharField(max_length=16),
        ),
        DropColumn(model_name='Step', name='code_hash'),
        DropColumn(model_name='Step', name='dwell_seconds'),
        DropColumn(model_name='Step', name='target_url'),
        AlterFieldInState(
            model_name='Winner',
            name='status',
            field=fields.CharEnumField(default=WinnerStatus.SELECTED, description='SELECTED: selected', enum_type=WinnerStatus, max_length=16),
        ),
        ops.DeleteModel(name='VisitReport'),
    ]
