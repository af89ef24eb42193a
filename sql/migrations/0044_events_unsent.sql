-- Events not yet known to be sent: a row per event, written with it and deleted once Redis has taken it;
-- the relay sends what a crashed worker left here. Marking the event's own row instead (`emitted_at`)
-- wrote every event twice: a new version of the row with its JSON and three index entries, more than a
-- quarter of the WAL of a walk-in and its answer, and dead rows for vacuum to clear. A row here is two
-- numbers and a key, and deleting it touches no index.
CREATE TABLE events_unsent (
    id          bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL
);
INSERT INTO events_unsent (id, created_at) SELECT id, created_at FROM events WHERE emitted_at IS NULL;
DROP INDEX events_unemitted_idx;
ALTER TABLE events DROP COLUMN emitted_at;
