-- What a walk-in writes beyond its own rows, read with pg_walinspect over 2,000 walk-ins: 24 index entries
-- and 6 row locks each, 5.6 KiB of WAL.
--
-- An `events_unsent` row pointed at its event through a foreign key. Its check locks the event row just
-- written (a second WAL record for each event, and a locker to look up for everyone who reads the row
-- later) to guard against a delete that cannot happen: the rows are written by the same statement, and only
-- the retention purge deletes events, which now deletes their `events_unsent` rows itself.
ALTER TABLE events_unsent DROP CONSTRAINT events_unsent_id_fkey;

-- Indexes that only a delete of a user would read (to find the rows pointing at it), and no query does.
-- Users are never deleted: deleting an account anonymises its row. Each cost an entry per walk-in, and the
-- two on `visitors` another per answer (an answer changes the status, so every index takes the new version).
DROP INDEX visitors_created_by_idx;
DROP INDEX visitors_responded_by_idx;
DROP INDEX visitor_status_history_actor_idx;
