from tortoise import migrations
from tortoise.migrations import operations as ops

# On PostgreSQL, the running counts of 0017 were moved by each statement as it ran: a
# participant's code typed in moved the "every required step done" counter of their
# shard, then, crediting whoever referred them, that of the referrer's shard, while a
# worker's batch took the same counters in ascending order. Two such transactions could
# each hold the counter the other wanted next, and PostgreSQL aborted one of them.
#
# Now a trigger only notes its change in ``tally_pending`` (an insert, which waits for
# no one), and the transaction's changes are applied together when it commits, summed
# per counter and taken in one order everywhere: entrant counters, then step counters,
# then referral counters, then referrers' counters, each by key. At commit a
# transaction takes no other lock, so it holds a counter only while waiting for one
# later in that order: no circle can form. Counters are read as before.
#
# Only the transaction that wrote a pending row can see it before the commit; it
# deletes its rows when it applies them, so the table holds nothing between commits.
# SQLite lets one writer at a time: its triggers stay as they are.
SHARDS = 16

_QUARTER = "FLOOR(EXTRACT(EPOCH FROM {at}) / 900)::INT"


def _required_done(entry: str) -> str:
    return (
        "(SELECT COUNT(*) FROM completion x JOIN step y ON y.id = x.step_id "
        f"WHERE x.entry_id = {entry} AND y.required)"
    )


def _required(contest: str) -> str:
    return f"(SELECT COUNT(*) FROM step z WHERE z.contest_id = {contest} AND z.required)"


_MOVED = f"""
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


def _settle(tally: str, table: str, keys: str, column: str, picked: str) -> str:
    """Apply this transaction's pending changes to one kind of counter, in key order."""
    return f"""
  WITH taken AS (
    DELETE FROM tally_pending WHERE txn = txid_current() AND tally = '{tally}' RETURNING *
  )
  INSERT INTO {table} AS t (contest_id, {keys}, {column})
  SELECT contest_id, {picked}, SUM(n) FROM taken GROUP BY contest_id, {picked}
  HAVING SUM(n) <> 0 ORDER BY contest_id, {picked}
  ON CONFLICT (contest_id, {keys}) DO UPDATE SET {column} = t.{column} + excluded.{column};"""


def _postgres() -> str:
    new_quarter = _QUARTER.format(at="NEW.created_at")
    old_quarter = _QUARTER.format(at="OLD.created_at")
    return f"""
CREATE TABLE tally_pending (
  txn BIGINT NOT NULL DEFAULT txid_current(),
  tally VARCHAR(8) NOT NULL,
  contest_id INT NOT NULL,
  a INT NOT NULL,
  b INT NOT NULL DEFAULT 0,
  status VARCHAR(16) NOT NULL DEFAULT '',
  n INT NOT NULL
);
-- Each transaction reads its own rows through this index: the rows other transactions
-- deleted, not vacuumed yet, are never read.
CREATE INDEX tally_pending_txn ON tally_pending (txn, tally);

CREATE FUNCTION tally_settle_pending() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  {_settle("entrant", "entrant_tally", "quarter", "entrants", "a")}
  {_settle("step", "step_tally", "stage, shard", "done", "a, b")}
  {_settle("referral", "referral_tally", "status, shard", "referrals", "status, a")}
  {_settle("referrer", "referrer_tally", "referrer_id", "credited", "a")}
END $$;
CREATE FUNCTION tally_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tally_settle_pending();
  RETURN NULL;
END $$;
-- Fires at the commit, once per pending row: the first applies them all.
CREATE CONSTRAINT TRIGGER tally_settle AFTER INSERT ON tally_pending
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tally_settle();

CREATE OR REPLACE FUNCTION tally_entrants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO tally_pending (tally, contest_id, a, n)
    VALUES ('entrant', OLD.contest_id, {old_quarter}, -1);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO tally_pending (tally, contest_id, a, n)
    VALUES ('entrant', NEW.contest_id, {new_quarter}, 1);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tally_completions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  removed INT := CASE WHEN TG_OP = 'DELETE' THEN 1 ELSE 0 END;
BEGIN
  INSERT INTO tally_pending (tally, contest_id, a, b, n)
  SELECT 'step', m.contest_id, m.stage, m.shard, m.n * (1 - 2 * removed) FROM ({_MOVED}) m;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tally_referrers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.status = 'credited' AND OLD.referrer_id IS NOT NULL THEN
    INSERT INTO tally_pending (tally, contest_id, a, n)
    VALUES ('referrer', OLD.contest_id, OLD.referrer_id, -1);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.status = 'credited' AND NEW.referrer_id IS NOT NULL THEN
    INSERT INTO tally_pending (tally, contest_id, a, n)
    VALUES ('referrer', NEW.contest_id, NEW.referrer_id, 1);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tally_referral_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO tally_pending (tally, contest_id, a, status, n)
    VALUES ('referral', OLD.contest_id, OLD.referred_id % {SHARDS}, OLD.status, -1);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO tally_pending (tally, contest_id, a, status, n)
    VALUES ('referral', NEW.contest_id, NEW.referred_id % {SHARDS}, NEW.status, 1);
  END IF;
  RETURN NULL;
END $$;

-- A step added, removed or made (not) required recounts the contest's counters at
-- once: what the transaction changed before is applied first, and the contest's step
-- counters are taken in key order, as at a commit.
CREATE OR REPLACE FUNCTION tally_steps() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  of_contest INT := CASE WHEN TG_OP = 'DELETE' THEN OLD.contest_id ELSE NEW.contest_id END;
BEGIN
  PERFORM tally_settle_pending();
  PERFORM 1 FROM step_tally WHERE contest_id = of_contest ORDER BY stage, shard FOR UPDATE;
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
"""


async def settle_at_commit(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(_postgres())


class Migration(migrations.Migration):
    dependencies = [('models', '0017_tallies')]

    initial = False

    operations = [
        ops.RunPython(settle_at_commit),
    ]
