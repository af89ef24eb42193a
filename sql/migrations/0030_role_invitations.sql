-- Roles waiting for someone who has no account yet: a scope admin invites an e-mail address or a phone
-- number to a role; a job sends a one-time code there (only its keyed hash is kept, and a retry draws a new
-- one); whoever signs up and shows the code, from an account with that address or number, gets the role.

CREATE TABLE role_invitations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text CHECK (length(email) <= 254),
    phone         text CHECK (length(phone) <= 32),
    role          text NOT NULL,
    scope_type    text NOT NULL,
    scope_id      uuid,
    history_from  timestamptz,
    code_hash     bytea UNIQUE,  -- set when the code is sent
    invited_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    claimed_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    claimed_at    timestamptz,
    cancelled_at  timestamptz,
    CHECK ((email IS NULL) <> (phone IS NULL))
);
CREATE INDEX role_invitations_scope_idx ON role_invitations (scope_type, scope_id, created_at DESC);
