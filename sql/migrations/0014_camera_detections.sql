-- Camera-detection scripts post what they see with a mall's API key (stored hashed, shown once,
-- revocable). A detection of the same type at the same place joins the issue still open for it.
CREATE TABLE mall_api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mall_id       uuid NOT NULL REFERENCES malls (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    key_hash      bytea NOT NULL UNIQUE,
    prefix        text NOT NULL,
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX mall_api_keys_mall_idx ON mall_api_keys (mall_id, created_at);

ALTER TABLE issues DROP CONSTRAINT issues_source_check;
ALTER TABLE issues ADD CONSTRAINT issues_source_check CHECK (source IN ('staff', 'customer', 'model'));
ALTER TABLE issues ADD COLUMN detections integer NOT NULL DEFAULT 1 CHECK (detections >= 1);
ALTER TABLE issues ADD COLUMN last_seen_at timestamptz;
ALTER TABLE issues ADD COLUMN api_key_id uuid REFERENCES mall_api_keys (id) ON DELETE SET NULL;
-- At most one open detected issue per type and place: repeated detections join it.
CREATE UNIQUE INDEX issues_detected_open_idx ON issues (mall_id, issue_type, (coalesce(location, '')))
    WHERE source = 'model' AND state NOT IN ('resolved', 'closed');
