from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index


# Whether anyone has completed a step decides what the console may still change about
# it: an index on the step alone answers that without reading every completion.
class Migration(migrations.Migration):
    dependencies = [('models', '0006_referrals')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Completion',
            index=Index(fields=['step_id'], name='completion_step'),
        ),
    ]
