from enum import StrEnum

from tortoise import fields, migrations

from contests.migrations._operations import AddColumnWithDefault


# The enum as it was when this migration was written.
class MarketerRole(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    OWNER = "owner"


# Marketers added before roles could do everything on their brand: they stay owners.
class Migration(migrations.Migration):
    dependencies = [('models', '0007_completion_step')]

    initial = False

    operations = [
        AddColumnWithDefault(
            model_name='Marketer',
            name='role',
            field=fields.CharEnumField(MarketerRole, max_length=8, default=MarketerRole.EDITOR),
            sql_default="'owner'",
        ),
    ]
