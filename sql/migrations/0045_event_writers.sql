-- How readers of a room's events wait for its writers in flight without making later writers wait.
--
-- Event ids are drawn before commit, so a writer can commit after another that drew a higher id in the same
-- room. Until now the emitter and `sync` took the room's advisory lock exclusively for an instant to wait for
-- such writers; but a waiting exclusive request makes every later writer of the room queue behind it, and with
-- walk-ins and answers into one society a few hundred times a second those waits chained into a convoy.
--
-- Now a writer marks itself: an exclusive lock on its own key (class 25975, its backend's pid), then its rooms'
-- locks shared (class 25974, hashtext(room)), both until it commits, and only then draws ids. A reader lists
-- the writers whose room locks are granted and waits for each one's own key in turn. Only the writers in
-- flight at that moment are waited for; a writer that starts later draws higher ids and waits for nobody.

-- Mark this transaction as a writer of `rooms` until it ends. STRICT: no rooms (NULL), no locks, no count.
CREATE FUNCTION events_begin_write(rooms text[]) RETURNS integer LANGUAGE plpgsql STRICT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(25975, pg_backend_pid());
    PERFORM pg_advisory_xact_lock_shared(25974, k) FROM (SELECT DISTINCT hashtext(r) AS k FROM unnest(rooms) r) keys;
    RETURN cardinality(rooms);
END $$;

-- Wait until every transaction writing events to `rooms` when called has ended; return the last event id
-- drawn before the writers were listed. Every id of those rooms up to it has then committed or rolled back.
--
-- Most rooms have no writer at a given moment: when every room's lock can be had exclusively at once, nobody
-- is writing to them and the list of writers (pg_locks, which reads the whole lock table) is not needed.
--
-- Each wait is a shared lock on the writer's own key, taken in a subtransaction that is then rolled back, so
-- the lock is gone before the next wait. Held on, it would stop that writer's next transaction from marking
-- itself; and that transaction could hold a row lock the next writer waited on: a deadlock. The rooms'
-- locks tried first are let go the same way, before any wait.
CREATE FUNCTION events_settled(rooms text[]) RETURNS bigint LANGUAGE plpgsql STRICT AS $$
DECLARE
    horizon bigint := coalesce(pg_sequence_last_value('events_id_seq'), 0);
    quiet boolean;
    writer integer;
BEGIN
    BEGIN
        quiet := (SELECT bool_and(pg_try_advisory_xact_lock(25974, hashtext(r))) FROM unnest(rooms) r);
        RAISE SQLSTATE 'GH001';
    EXCEPTION WHEN SQLSTATE 'GH001' THEN
        NULL;
    END;
    IF quiet THEN
        RETURN horizon;
    END IF;
    FOR writer IN
        SELECT DISTINCT l.pid FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 25974 AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.pid <> pg_backend_pid()
          AND l.objid IN (SELECT (hashtext(r)::bigint & 4294967295)::oid FROM unnest(rooms) r)
        ORDER BY l.pid
    LOOP
        BEGIN
            PERFORM pg_advisory_xact_lock_shared(25975, writer);
            RAISE SQLSTATE 'GH001';
        EXCEPTION WHEN SQLSTATE 'GH001' THEN
            NULL;
        END;
    END LOOP;
    RETURN horizon;
END $$;
