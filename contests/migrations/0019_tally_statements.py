from tortoise import migrations
from tortoise.migrations import operations as ops

# On PostgreSQL, since 0018, a trigger noted each entry and referral changed in its own
# pending row, and the commit fired the settling trigger once per pending row. The
# first firing applied them all; each later one looked this transaction's rows up
# again and walked past every index entry the first had deleted, so that one
# statement of n rows cost n² at its commit (18 s for 20,000 entries).
#
# Now entries and referrals are noted as completions already were: once per statement,
# from the rows it changed, one pending row per counter moved, with the rows' net
# change (an update's old rows count down, its new rows up, and those that moved no
# counter cancel out). A statement of any size adds a handful of pending rows.
#
# And settling is remembered for the rest of the transaction: a change noted sets a
# transaction-local flag, settling clears it, and a firing that finds it clear returns
# at once. The flag is undone with a savepoint rolled back, as are the pending rows.
# Counters are still moved only at commit, in the order of 0018: no deadlock.
# SQLite's row triggers move a counter in place, once per row, in linear time.
SHARDS = 16

_UNSETTLED = "tally.unsettled"


def _quarter(at: str) -> str:
    return f"FLOOR(EXTRACT(EPOCH FROM {at}) / 900)::INT"


_ENTRANTS = """
INSERT INTO tally_pending (tally, contest_id, a, n)
SELECT 'entrant', contest_id, quarter, SUM(n) FROM ({rows}) r
GROUP BY contest_id, quarter HAVING SUM(n) <> 0;"""

_REFERRERS = """
INSERT INTO tally_pending (tally, contest_id, a, n)
SELECT 'referrer', contest_id, referrer_id, SUM(n) FROM ({rows}) r
WHERE status = 'credited' AND referrer_id IS NOT NULL
GROUP BY contest_id, referrer_id HAVING SUM(n) <> 0;"""

_REFERRALS = f"""
INSERT INTO tally_pending (tally, contest_id, a, status, n)
SELECT 'referral', contest_id, referred_id % {SHARDS}, status, SUM(n) FROM ({{rows}}) r
GROUP BY contest_id, referred_id % {SHARDS}, status HAVING SUM(n) <> 0;"""


def _rows(*sources: tuple[str, int], columns: str) -> str:
    return " UNION ALL ".join(f"SELECT {columns}, {sign} AS n FROM {table}" for table, sign in sources)


def _by_operation(statement: str, columns: str) -> str:
    """``statement`` for the rows an insert added, a delete removed, an update changed."""
    added = statement.format(rows=_rows(("added", 1), columns=columns))
    removed = statement.format(rows=_rows(("removed", -1), columns=columns))
    changed = statement.format(rows=_rows(("removed", -1), ("added", 1), columns=columns))
    return f"""
  IF TG_OP = 'INSERT' THEN {added}
  ELSIF TG_OP = 'DELETE' THEN {removed}
  ELSE {changed}
  END IF;"""


def _postgres() -> str:
    entrants = _by_operation(
        _ENTRANTS, f"contest_id, {_quarter('created_at')} AS quarter"
    )
    referrers = _by_operation(_REFERRERS, "contest_id, referrer_id, status")
    referrals = _by_operation(_REFERRALS, "contest_id, referred_id, status")
    return f"""
DROP TRIGGER entry_tally ON entry;
DROP TRIGGER entry_tally_moved ON entry;
DROP TRIGGER referrer_tally ON referral;
DROP TRIGGER referrer_tally_changed ON referral;
DROP TRIGGER referral_tally ON referral;
DROP TRIGGER referral_tally_changed ON referral;
DROP FUNCTION tally_referrers();
DROP FUNCTION tally_referral_statuses();

CREATE FUNCTION tally_noted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('{_UNSETTLED}', 'on', true);
  RETURN NULL;
END $$;
CREATE TRIGGER tally_noted AFTER INSERT ON tally_pending
FOR EACH STATEMENT EXECUTE FUNCTION tally_noted();

-- Applies every pending row of the transaction, whether or not it was flagged.
ALTER FUNCTION tally_settle_pending() RENAME TO tally_settle_all;
CREATE FUNCTION tally_settle_pending() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('{_UNSETTLED}', true) IS DISTINCT FROM 'on' THEN
    RETURN;
  END IF;
  PERFORM set_config('{_UNSETTLED}', 'off', true);
  PERFORM tally_settle_all();
END $$;

CREATE OR REPLACE FUNCTION tally_entrants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {entrants}
  RETURN NULL;
END $$;
CREATE TRIGGER entry_tally_in AFTER INSERT ON entry
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION tally_entrants();
CREATE TRIGGER entry_tally_out AFTER DELETE ON entry
REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION tally_entrants();
CREATE TRIGGER entry_tally_moved AFTER UPDATE ON entry
REFERENCING OLD TABLE AS removed NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION tally_entrants();

CREATE FUNCTION tally_referrals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {referrers}
  {referrals}
  RETURN NULL;
END $$;
CREATE TRIGGER referral_tally_in AFTER INSERT ON referral
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION tally_referrals();
CREATE TRIGGER referral_tally_out AFTER DELETE ON referral
REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION tally_referrals();
CREATE TRIGGER referral_tally_changed AFTER UPDATE ON referral
REFERENCING OLD TABLE AS removed NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION tally_referrals();

-- A big statement's transition table makes the planner expect costs that call for
-- compiling its queries (a third of a second and more), which then run in milliseconds.
ALTER FUNCTION tally_entrants() SET jit = off;
ALTER FUNCTION tally_completions() SET jit = off;
ALTER FUNCTION tally_referrals() SET jit = off;

-- Whatever was noted before this migration, in its transaction, is applied now.
SELECT tally_settle_all();
"""


async def note_per_statement(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(_postgres())


class Migration(migrations.Migration):
    dependencies = [('models', '0018_tally_order')]

    initial = False

    operations = [
        ops.RunPython(note_per_statement),
    ]
