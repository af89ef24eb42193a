-- A writer that finds its rooms quiet right after drawing its ids has nobody to wait for.
--
-- After commit the emitter asked PostgreSQL to wait for its rooms' writers in flight (`events_settled`): a pool
-- connection and a round trip for every event, even where no other writer was in flight, as in a society with a
-- walk-in a minute. Now the statement that draws the ids asks, right after, whether any other transaction is
-- marked as a writer of its rooms (`events_quiet`). If none is, every lower id of those rooms has already committed
-- or rolled back (a writer stays marked until it ends), and any later writer draws higher ids: the emitter sends at
-- once. Otherwise it waits after commit as before.
--
-- The test is `events_settled`'s: each room's lock tried exclusively, in a subtransaction rolled back at once, so
-- that the lock is gone before the statement goes on (a lock held at session level would outlive a statement
-- cancelled before it let go, and stop the room's writers for good). A session is not in conflict with itself, so
-- the writer's own shared mark does not count.

CREATE FUNCTION events_quiet(rooms text[]) RETURNS boolean LANGUAGE plpgsql STRICT AS $$
DECLARE
    quiet boolean;
BEGIN
    BEGIN
        quiet := (SELECT bool_and(pg_try_advisory_xact_lock(25974, hashtext(r))) FROM unnest(rooms) r);
        RAISE SQLSTATE 'GH001';
    EXCEPTION WHEN SQLSTATE 'GH001' THEN
        NULL;
    END;
    RETURN coalesce(quiet, true);
END $$;
