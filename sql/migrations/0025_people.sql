-- People: a photo and an optional username (sign-in by it, case-insensitive) on every account, when the
-- password last changed, and deletion as anonymisation: the row stays (orders, visits and audit rows keep
-- pointing at it) with its personal data gone and `deleted_at` set.

ALTER TABLE users
    ADD COLUMN image_url text CHECK (length(image_url) <= 2048),
    ADD COLUMN username text CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$'),
    ADD COLUMN password_changed_at timestamptz,
    ADD COLUMN deleted_at timestamptz;
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_sign_in_check
    CHECK (email IS NOT NULL OR firebase_uid IS NOT NULL OR deleted_at IS NOT NULL);

-- Finding people: words of the name by full-text prefix, e-mail, username and phone by their start.
CREATE INDEX users_name_search_idx ON users USING gin (to_tsvector('simple', name));
CREATE INDEX users_email_prefix_idx ON users (lower(email) text_pattern_ops);
CREATE INDEX users_phone_prefix_idx ON users (phone text_pattern_ops);
CREATE INDEX users_by_name_idx ON users (lower(name), id);

-- Changing one's password ends one's other sessions; deleting an account ends them all.
ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_reason_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'refresh_reuse', 'password_reset', 'disabled', 'device_taken',
                              'password_changed', 'deleted'));
