-- Each audit row keeps the ids of the places the change happened in: the place itself and those it sits
-- inside (a visitor's flat and society, a product's shop and mall). A scope admin reads the log of their
-- own place with one indexed query. Rows written before this name no place; only admins see those.

ALTER TABLE audit_logs ADD COLUMN places uuid[] NOT NULL DEFAULT '{}';

CREATE INDEX audit_logs_places_idx ON audit_logs USING gin (places);
