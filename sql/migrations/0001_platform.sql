-- Platform: users, roles, sessions and refresh-token families, password
-- resets, the auth audit, the event outbox and the audit log.

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone         text CHECK (length(phone) <= 32),
    password_hash text,
    firebase_uid  text UNIQUE CHECK (length(firebase_uid) <= 128),
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (email IS NOT NULL OR firebase_uid IS NOT NULL)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE role_assignments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL,
    scope_type  text NOT NULL,
    scope_id    uuid,
    granted_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((role, scope_type) IN (
        ('admin', 'global'), ('customer', 'global'),
        ('society_admin', 'society'), ('guard', 'society'), ('resident', 'flat'),
        ('mall_admin', 'mall'), ('security', 'mall'),
        ('employee', 'shop'), ('shop_manager', 'shop'))),
    CHECK ((scope_type = 'global') = (scope_id IS NULL)),
    UNIQUE NULLS NOT DISTINCT (user_id, role, scope_type, scope_id)
);
CREATE INDEX role_assignments_scope_idx ON role_assignments (scope_type, scope_id, role);
CREATE INDEX role_assignments_granted_by_idx ON role_assignments (granted_by);

-- A session is one sign-in on one device: the family of its refresh tokens.
CREATE TABLE auth_sessions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('logout', 'refresh_reuse', 'password_reset', 'disabled')),
    ip             inet,
    user_agent     text
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id  uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    spent_at    timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE password_resets (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   bytea NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at DESC);

CREATE TABLE auth_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    provider    text NOT NULL CHECK (provider IN ('firebase')),
    subject     text,
    outcome     text NOT NULL CHECK (outcome IN ('verified', 'invalid', 'expired', 'error')),
    reason      text,
    ip          inet,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_audit_user_idx ON auth_audit (user_id);
CREATE INDEX auth_audit_created_idx ON auth_audit (created_at);

-- The outbox: written in the transaction that causes the event, emitted after
-- it commits; rows left unemitted by a crash are picked up by any worker.
CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room        text NOT NULL CHECK (length(room) <= 100),
    type        text NOT NULL CHECK (length(type) <= 64),
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    emitted_at  timestamptz
);
CREATE INDEX events_room_idx ON events (room, id);
CREATE INDEX events_unemitted_idx ON events (id) WHERE emitted_at IS NULL;
CREATE INDEX events_created_idx ON events (created_at);

CREATE TABLE audit_logs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    action        text NOT NULL,
    resource_type text NOT NULL,
    resource_id   text,
    request_id    text,
    ip            inet,
    details       jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_actor_idx ON audit_logs (actor_id);
CREATE INDEX audit_logs_resource_idx ON audit_logs (resource_type, resource_id);
CREATE INDEX audit_logs_created_idx ON audit_logs (created_at);
