-- The rooms of a change that have a writer in flight, so that the emitter waits for those rooms only.
--
-- A walk-in's events go to its flat and to its society. Waiting for every writer of both (0045) held the
-- resident's `visitor_request` back until every other walk-in of the society then committing had committed:
-- at a few hundred walk-ins a second the society always has some, and the slowest of them set the flat's
-- latency. Now the emitter asks which rooms are busy, sends the other rooms' events at once, and waits only
-- for the busy ones (events_settled).

-- Which of `rooms` a transaction is writing to at this instant: the rooms whose lock cannot be had
-- exclusively. The locks that could be had are let go before returning (a rolled-back subtransaction).
CREATE FUNCTION events_busy(rooms text[]) RETURNS text[] LANGUAGE plpgsql STRICT AS $$
DECLARE
    busy text[];
BEGIN
    BEGIN
        busy := ARRAY(SELECT r FROM unnest(rooms) r WHERE NOT pg_try_advisory_xact_lock(25974, hashtext(r)));
        RAISE SQLSTATE 'GH001';
    EXCEPTION WHEN SQLSTATE 'GH001' THEN
        NULL;
    END;
    RETURN busy;
END $$;
