-- A live event waits only for the writers of its rooms that were in flight when its ids were drawn.
--
-- Until now the emitter listed its rooms' writers after its own commit, and so also waited for writers that had
-- started since: they draw higher ids and need no waiting for. While a commit's WAL flush is slow (20 to 30 ms
-- seen), every walk-in arriving meanwhile was such a writer, so each event waited a flush more than its own, and
-- the next one the same. Now a writer lists the others in the statement that draws its ids, after drawing them
-- (`events_writers`), and its emitter waits for those alone (`events_wait`); with none listed, it does not ask.
--
-- A writer's own key was its backend's pid, so a wait for it also waited for that session's next transaction: a
-- pool hands the connection to the next walk-in within a millisecond. It is now its transaction id's low 32 bits,
-- unique among transactions in flight, so nobody but its readers ever asks for it again: a reader may hold the
-- keys it waited for until its statement ends. The rooms' locks tried first are still let go at once.

CREATE OR REPLACE FUNCTION events_begin_write(rooms text[]) RETURNS integer LANGUAGE plpgsql STRICT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(25975, pg_current_xact_id()::text::bigint::bit(32)::integer);
    PERFORM pg_advisory_xact_lock_shared(25974, k) FROM (SELECT DISTINCT hashtext(r) AS k FROM unnest(rooms) r) keys;
    RETURN cardinality(rooms);
END $$;

-- The own keys of the other transactions marked as writers of any of `rooms` at this moment. PL/pgSQL, as the
-- others: a session plans their queries once, where an SQL function's body is planned again at every call.
CREATE FUNCTION events_writers(rooms text[]) RETURNS integer[] LANGUAGE plpgsql STRICT AS $$
BEGIN
    RETURN (
        WITH l AS MATERIALIZED (
            SELECT pid, classid, objid FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND classid IN (25974, 25975) AND objsubid = 2
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND pid <> pg_backend_pid())
        SELECT coalesce(array_agg(DISTINCT own.objid::bigint::bit(32)::integer), '{}')
        FROM l room JOIN l own ON own.pid = room.pid AND own.classid = 25975
        WHERE room.classid = 25974
          AND room.objid IN (SELECT (hashtext(r)::bigint & 4294967295)::oid FROM unnest(rooms) r));
END $$;

-- Wait until each transaction whose own key is in `writers` has ended; the number waited for.
CREATE FUNCTION events_wait(writers integer[]) RETURNS integer LANGUAGE plpgsql STRICT AS $$
BEGIN
    RETURN (SELECT count(pg_advisory_xact_lock_shared(25975, w)) FROM unnest(writers) w);
END $$;

CREATE OR REPLACE FUNCTION events_settled(rooms text[]) RETURNS bigint LANGUAGE plpgsql STRICT AS $$
DECLARE
    horizon bigint := coalesce(pg_sequence_last_value('events_id_seq'), 0);
    quiet boolean;
BEGIN
    BEGIN
        quiet := (SELECT bool_and(pg_try_advisory_xact_lock(25974, hashtext(r))) FROM unnest(rooms) r);
        RAISE SQLSTATE 'GH001';
    EXCEPTION WHEN SQLSTATE 'GH001' THEN
        NULL;
    END;
    IF NOT quiet THEN
        PERFORM events_wait(events_writers(rooms));
    END IF;
    RETURN horizon;
END $$;
