-- Images people upload. The bytes are a file under DATA_DIR/media named by their SHA-256; the row says
-- who sent them first, so an abusive upload can be traced to an account.
CREATE TABLE media (
    name         text PRIMARY KEY,
    content_type text NOT NULL,
    bytes        integer NOT NULL CHECK (bytes > 0),
    uploaded_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_uploaded_by_idx ON media (uploaded_by, created_at);
