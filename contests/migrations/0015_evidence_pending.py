from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index


# Workers take pending evidence oldest first, a batch at a time: an index on the status
# and the id finds the next batch without reading every verdict already given.
class Migration(migrations.Migration):
    dependencies = [('models', '0014_frozen_lines')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Evidence',
            index=Index(fields=['status', 'id'], name='evidence_status'),
        ),
    ]
