from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# The dashboard reads counters instead of counting a contest's every entry, completion
# and referral on each view: entrants per quarter of an hour (UTC), entries per step
# and with every required step done (in shards), referrals per status (in shards),
# and each referrer's credited referrals. Triggers keep them in the transaction that adds, moves or removes an
# entry, a completion, a step or a referral, whoever writes it; the counters start
# from the rows already there.
SHARDS = 16

_QUARTER = {
    "sqlite": "CAST(strftime('%s', {at}) AS INTEGER) / 900",
    "postgres": "FLOOR(EXTRACT(EPOCH FROM {at}) / 900)::INT",
}


def _finished(contest: str) -> str:
    """Entries of ``contest`` (an SQL expression) with every required step done."""
    return (
        "SELECT c.entry_id FROM completion c JOIN step s ON s.id = c.step_id "
        f"WHERE s.contest_id = {contest} AND s.required GROUP BY c.entry_id "
        f"HAVING COUNT(*) = (SELECT COUNT(*) FROM step r WHERE r.contest_id = {contest} "
        "AND r.required)"
    )


def _recount_finished(contest: str) -> str:
    return (
        f"DELETE FROM step_tally WHERE contest_id = {contest} AND stage = 0; "
        "INSERT INTO step_tally (contest_id, stage, shard, done) "
        f"SELECT {contest}, 0, f.entry_id % {SHARDS}, COUNT(*) FROM ({_finished(contest)}) f "
        f"GROUP BY f.entry_id % {SHARDS};"
    )


def _required_done(entry: str) -> str:
    return (
        "(SELECT COUNT(*) FROM completion x JOIN step y ON y.id = x.step_id "
        f"WHERE x.entry_id = {entry} AND y.required)"
    )


def _required(contest: str) -> str:
    return f"(SELECT COUNT(*) FROM step z WHERE z.contest_id = {contest} AND z.required)"


# A required step added takes everyone out of "every required step done" (nobody has
# done a step that did not exist): its counters go, without a recount. A step deleted
# (only from a draft) or no longer required changes who has every required step: the
# contest's entries are counted again, once.


def _sqlite_triggers() -> str:
    new_quarter = _QUARTER["sqlite"].format(at="NEW.created_at")
    old_quarter = _QUARTER["sqlite"].format(at="OLD.created_at")
    add_entrant = (
        "INSERT INTO entrant_tally (contest_id, quarter, entrants) "
        f"VALUES (NEW.contest_id, {new_quarter}, 1) ON CONFLICT (contest_id, quarter) "
        "DO UPDATE SET entrants = entrant_tally.entrants + 1;"
    )
    remove_entrant = (
        "UPDATE entrant_tally SET entrants = entrants - 1 "
        f"WHERE contest_id = OLD.contest_id AND quarter = {old_quarter};"
    )
    credit = (
        "INSERT INTO referrer_tally (contest_id, referrer_id, credited) "
        "VALUES (NEW.contest_id, NEW.referrer_id, 1) ON CONFLICT (contest_id, referrer_id) "
        "DO UPDATE SET credited = referrer_tally.credited + 1;"
    )
    uncredit = (
        "UPDATE referrer_tally SET credited = credited - 1 "
        "WHERE contest_id = OLD.contest_id AND referrer_id = OLD.referrer_id;"
    )
    add_referral = (
        "INSERT INTO referral_tally (contest_id, status, shard, referrals) "
        f"VALUES (NEW.contest_id, NEW.status, NEW.referred_id % {SHARDS}, 1) "
        "ON CONFLICT (contest_id, status, shard) "
        "DO UPDATE SET referrals = referral_tally.referrals + 1;"
    )
    remove_referral = (
        "UPDATE referral_tally SET referrals = referrals - 1 WHERE contest_id = OLD.contest_id "
        f"AND status = OLD.status AND shard = OLD.referred_id % {SHARDS};"
    )
    # Row by row, each completion sees those before it: an entry completes its set at
    # exactly one of them.
    return f"""
CREATE TRIGGER entry_tally_in AFTER INSERT ON entry BEGIN {add_entrant} END;
CREATE TRIGGER entry_tally_out AFTER DELETE ON entry BEGIN {remove_entrant} END;
CREATE TRIGGER entry_tally_moved AFTER UPDATE OF contest_id, created_at ON entry
WHEN OLD.contest_id IS NOT NEW.contest_id OR OLD.created_at IS NOT NEW.created_at
BEGIN {remove_entrant} {add_entrant} END;
CREATE TRIGGER completion_tally_in AFTER INSERT ON completion BEGIN
INSERT INTO step_tally (contest_id, stage, shard, done)
SELECT s.contest_id, NEW.step_id, NEW.entry_id % {SHARDS}, 1 FROM step s WHERE s.id = NEW.step_id
ON CONFLICT (contest_id, stage, shard) DO UPDATE SET done = step_tally.done + 1;
INSERT INTO step_tally (contest_id, stage, shard, done)
SELECT s.contest_id, 0, NEW.entry_id % {SHARDS}, 1 FROM step s
WHERE s.id = NEW.step_id AND s.required
AND {_required_done("NEW.entry_id")} = {_required("s.contest_id")}
ON CONFLICT (contest_id, stage, shard) DO UPDATE SET done = step_tally.done + 1;
END;
CREATE TRIGGER completion_tally_out AFTER DELETE ON completion BEGIN
UPDATE step_tally SET done = done - 1
WHERE stage = OLD.step_id AND shard = OLD.entry_id % {SHARDS}
AND contest_id = (SELECT contest_id FROM step WHERE id = OLD.step_id);
UPDATE step_tally SET done = done - 1
WHERE stage = 0 AND shard = OLD.entry_id % {SHARDS}
AND contest_id = (SELECT contest_id FROM step WHERE id = OLD.step_id AND required)
AND {_required_done("OLD.entry_id")} + 1 = {_required("step_tally.contest_id")};
END;
CREATE TRIGGER referrer_tally_in AFTER INSERT ON referral
WHEN NEW.status = 'credited' AND NEW.referrer_id IS NOT NULL BEGIN {credit} END;
CREATE TRIGGER referrer_tally_out AFTER DELETE ON referral
WHEN OLD.status = 'credited' AND OLD.referrer_id IS NOT NULL BEGIN {uncredit} END;
CREATE TRIGGER referrer_tally_changed AFTER UPDATE OF status, referrer_id, contest_id ON referral
WHEN OLD.status IS NOT NEW.status OR OLD.referrer_id IS NOT NEW.referrer_id
OR OLD.contest_id IS NOT NEW.contest_id BEGIN
UPDATE referrer_tally SET credited = credited - 1 WHERE OLD.status = 'credited'
AND contest_id = OLD.contest_id AND referrer_id = OLD.referrer_id;
INSERT INTO referrer_tally (contest_id, referrer_id, credited)
SELECT NEW.contest_id, NEW.referrer_id, 1
WHERE NEW.status = 'credited' AND NEW.referrer_id IS NOT NULL
ON CONFLICT (contest_id, referrer_id) DO UPDATE SET credited = referrer_tally.credited + 1;
END;
CREATE TRIGGER referral_tally_in AFTER INSERT ON referral BEGIN {add_referral} END;
CREATE TRIGGER referral_tally_out AFTER DELETE ON referral BEGIN {remove_referral} END;
CREATE TRIGGER referral_tally_changed AFTER UPDATE OF status, contest_id, referred_id ON referral
WHEN OLD.status IS NOT NEW.status OR OLD.contest_id IS NOT NEW.contest_id
OR OLD.referred_id IS NOT NEW.referred_id BEGIN {remove_referral} {add_referral} END;
CREATE TRIGGER step_tally_in AFTER INSERT ON step WHEN NEW.required BEGIN
DELETE FROM step_tally WHERE contest_id = NEW.contest_id AND stage = 0; END;
CREATE TRIGGER step_tally_out AFTER DELETE ON step BEGIN
DELETE FROM step_tally WHERE contest_id = OLD.contest_id AND stage = OLD.id;
{_recount_finished("OLD.contest_id")} END;
CREATE TRIGGER step_tally_changed AFTER UPDATE OF required ON step
WHEN OLD.required IS NOT NEW.required BEGIN {_recount_finished("NEW.contest_id")} END;
"""


def _postgres_triggers() -> str:
    new_quarter = _QUARTER["postgres"].format(at="NEW.created_at")
    old_quarter = _QUARTER["postgres"].format(at="OLD.created_at")
    # Per statement, from the rows it changed: a worker's batch of a thousand
    # completions moves each counter once, in one order, so that two batches never
    # wait for each other's counters in a circle.
    moved = f"""
SELECT s.contest_id, c.step_id AS stage, c.entry_id % {SHARDS} AS shard, COUNT(*) AS n
FROM changed c JOIN step s ON s.id = c.step_id
GROUP BY s.contest_id, c.step_id, c.entry_id % {SHARDS}
UNION ALL
SELECT f.contest_id, 0, f.entry_id % {SHARDS}, COUNT(*) FROM (
  SELECT s.contest_id, c.entry_id, COUNT(*) AS k FROM changed c
  JOIN step s ON s.id = c.step_id AND s.required GROUP BY s.contest_id, c.entry_id
) f
WHERE {_required_done("f.entry_id")} + f.k * removed = {_required("f.contest_id")}
GROUP BY f.contest_id, f.entry_id % {SHARDS}"""
    return f"""
CREATE FUNCTION tally_entrants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE entrant_tally SET entrants = entrants - 1
    WHERE contest_id = OLD.contest_id AND quarter = {old_quarter};
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO entrant_tally AS t (contest_id, quarter, entrants)
    VALUES (NEW.contest_id, {new_quarter}, 1)
    ON CONFLICT (contest_id, quarter) DO UPDATE SET entrants = t.entrants + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER entry_tally AFTER INSERT OR DELETE ON entry
FOR EACH ROW EXECUTE FUNCTION tally_entrants();
CREATE TRIGGER entry_tally_moved AFTER UPDATE OF contest_id, created_at ON entry FOR EACH ROW
WHEN (OLD.contest_id IS DISTINCT FROM NEW.contest_id
      OR OLD.created_at IS DISTINCT FROM NEW.created_at)
EXECUTE FUNCTION tally_entrants();

CREATE FUNCTION tally_completions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  removed INT := CASE WHEN TG_OP = 'DELETE' THEN 1 ELSE 0 END;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO step_tally AS t (contest_id, stage, shard, done)
    SELECT m.contest_id, m.stage, m.shard, m.n FROM ({moved}) m
    ORDER BY m.contest_id, m.stage, m.shard
    ON CONFLICT (contest_id, stage, shard) DO UPDATE SET done = t.done + excluded.done;
  ELSE
    UPDATE step_tally t SET done = t.done - m.n FROM ({moved}) m
    WHERE t.contest_id = m.contest_id AND t.stage = m.stage AND t.shard = m.shard;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER completion_tally_in AFTER INSERT ON completion
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tally_completions();
CREATE TRIGGER completion_tally_out AFTER DELETE ON completion
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tally_completions();

CREATE FUNCTION tally_referrers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.status = 'credited' AND OLD.referrer_id IS NOT NULL THEN
    UPDATE referrer_tally SET credited = credited - 1
    WHERE contest_id = OLD.contest_id AND referrer_id = OLD.referrer_id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.status = 'credited' AND NEW.referrer_id IS NOT NULL THEN
    INSERT INTO referrer_tally AS t (contest_id, referrer_id, credited)
    VALUES (NEW.contest_id, NEW.referrer_id, 1)
    ON CONFLICT (contest_id, referrer_id) DO UPDATE SET credited = t.credited + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER referrer_tally AFTER INSERT OR DELETE ON referral
FOR EACH ROW EXECUTE FUNCTION tally_referrers();
CREATE TRIGGER referrer_tally_changed AFTER UPDATE OF status, referrer_id, contest_id
ON referral FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.referrer_id IS DISTINCT FROM NEW.referrer_id
      OR OLD.contest_id IS DISTINCT FROM NEW.contest_id)
EXECUTE FUNCTION tally_referrers();

CREATE FUNCTION tally_referral_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE referral_tally SET referrals = referrals - 1
    WHERE contest_id = OLD.contest_id AND status = OLD.status
    AND shard = OLD.referred_id % {SHARDS};
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO referral_tally AS t (contest_id, status, shard, referrals)
    VALUES (NEW.contest_id, NEW.status, NEW.referred_id % {SHARDS}, 1)
    ON CONFLICT (contest_id, status, shard) DO UPDATE SET referrals = t.referrals + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER referral_tally AFTER INSERT OR DELETE ON referral
FOR EACH ROW EXECUTE FUNCTION tally_referral_statuses();
CREATE TRIGGER referral_tally_changed AFTER UPDATE OF status, contest_id, referred_id
ON referral FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.contest_id IS DISTINCT FROM NEW.contest_id
      OR OLD.referred_id IS DISTINCT FROM NEW.referred_id)
EXECUTE FUNCTION tally_referral_statuses();

CREATE FUNCTION tally_recount_finished(of_contest INT) RETURNS void LANGUAGE sql AS $$
{_recount_finished("$1")}
$$;
CREATE FUNCTION tally_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    DELETE FROM step_tally WHERE contest_id = NEW.contest_id AND stage = 0;
  ELSIF TG_OP = 'DELETE' THEN
    DELETE FROM step_tally WHERE contest_id = OLD.contest_id AND stage = OLD.id;
    PERFORM tally_recount_finished(OLD.contest_id);
  ELSE
    PERFORM tally_recount_finished(NEW.contest_id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER step_tally_in AFTER INSERT ON step FOR EACH ROW WHEN (NEW.required)
EXECUTE FUNCTION tally_steps();
CREATE TRIGGER step_tally_out AFTER DELETE ON step FOR EACH ROW EXECUTE FUNCTION tally_steps();
CREATE TRIGGER step_tally_changed AFTER UPDATE OF required ON step FOR EACH ROW
WHEN (OLD.required IS DISTINCT FROM NEW.required) EXECUTE FUNCTION tally_steps();
"""


def _backfill(dialect: str) -> str:
    quarter = _QUARTER[dialect].format(at="created_at")
    return f"""
INSERT INTO entrant_tally (contest_id, quarter, entrants)
SELECT contest_id, {quarter}, COUNT(*) FROM entry GROUP BY 1, 2;
INSERT INTO step_tally (contest_id, stage, shard, done)
SELECT s.contest_id, c.step_id, c.entry_id % {SHARDS}, COUNT(*)
FROM completion c JOIN step s ON s.id = c.step_id
GROUP BY s.contest_id, c.step_id, c.entry_id % {SHARDS};
INSERT INTO step_tally (contest_id, stage, shard, done)
SELECT f.contest_id, 0, f.entry_id % {SHARDS}, COUNT(*) FROM (
  SELECT s.contest_id, c.entry_id FROM completion c JOIN step s ON s.id = c.step_id
  WHERE s.required GROUP BY s.contest_id, c.entry_id
  HAVING COUNT(*) = {_required("s.contest_id")}
) f GROUP BY f.contest_id, f.entry_id % {SHARDS};
INSERT INTO referrer_tally (contest_id, referrer_id, credited)
SELECT contest_id, referrer_id, COUNT(*) FROM referral
WHERE status = 'credited' AND referrer_id IS NOT NULL GROUP BY contest_id, referrer_id;
INSERT INTO referral_tally (contest_id, status, shard, referrals)
SELECT contest_id, status, referred_id % {SHARDS}, COUNT(*) FROM referral
GROUP BY contest_id, status, referred_id % {SHARDS};
"""


async def count_and_keep_counting(apps, schema_editor) -> None:
    client = schema_editor.client
    dialect = client.capabilities.dialect
    await client.execute_script(_backfill(dialect))
    triggers = _postgres_triggers() if dialect == "postgres" else _sqlite_triggers()
    await client.execute_script(triggers)


class Migration(migrations.Migration):
    dependencies = [('models', '0016_console_choices')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EntrantTally',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest_id', fields.IntField()),
                ('quarter', fields.IntField()),
                ('entrants', fields.IntField(default=0)),
            ],
            options={'table': 'entrant_tally', 'app': 'models', 'unique_together': (('contest_id', 'quarter'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StepTally',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest_id', fields.IntField()),
                ('stage', fields.IntField()),
                ('shard', fields.IntField()),
                ('done', fields.IntField(default=0)),
            ],
            options={'table': 'step_tally', 'app': 'models', 'unique_together': (('contest_id', 'stage', 'shard'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReferrerTally',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest_id', fields.IntField()),
                ('referrer_id', fields.IntField()),
                ('credited', fields.IntField(default=0)),
            ],
            options={'table': 'referrer_tally', 'app': 'models', 'unique_together': (('contest_id', 'referrer_id'),), 'indexes': [Index(fields=['contest_id', 'credited', 'referrer_id'], name='referrer_tally_top')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReferralTally',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contest_id', fields.IntField()),
                ('status', fields.CharField(max_length=16)),
                ('shard', fields.IntField()),
                ('referrals', fields.IntField(default=0)),
            ],
            options={'table': 'referral_tally', 'app': 'models', 'unique_together': (('contest_id', 'status', 'shard'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(count_and_keep_counting),
    ]
