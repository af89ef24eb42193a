-- How far back a role holder sees its scope's past (events replayed by `sync`,
-- listed history). NULL: all of it. A role that starts fresh (a new resident)
-- gets its grant time, so it does not read the previous tenant's visitors,
-- unless whoever may grant the role allows an earlier start.
ALTER TABLE role_assignments ADD COLUMN history_from timestamptz;
