from tortoise import fields, migrations

from contests.migrations._operations import AddColumnWithDefault


# A brand's logo and colour, and the time zone each marketer reads the console in:
# columns added in place, so no table is rebuilt.
class Migration(migrations.Migration):
    dependencies = [('models', '0011_claims')]

    initial = False

    operations = [
        AddColumnWithDefault(
            model_name='Brand',
            name='logo',
            field=fields.CharField(default='', max_length=80),
            sql_default="''",
        ),
        AddColumnWithDefault(
            model_name='Brand',
            name='colour',
            field=fields.CharField(default='', max_length=7),
            sql_default="''",
        ),
        AddColumnWithDefault(
            model_name='Marketer',
            name='time_zone',
            field=fields.CharField(default='Europe/Madrid', max_length=64),
            sql_default="'Europe/Madrid'",
        ),
    ]
