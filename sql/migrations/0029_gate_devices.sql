-- Gate devices: a tablet at a society's gate, registered by its society admin, that guards sign in on
-- with a 6-digit PIN instead of a password. The device proves itself with a secret shown once (kept as
-- a SHA-256 hash: it is long and random); a PIN is short, so it is kept as an Argon2 hash, and tries are
-- limited per device and per guard.

CREATE TABLE gate_devices (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    society_id   uuid NOT NULL REFERENCES societies (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    gate         text CHECK (length(gate) <= 100),
    secret_hash  bytea NOT NULL UNIQUE,
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX gate_devices_society_idx ON gate_devices (society_id, created_at);

CREATE TABLE guard_pins (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    society_id  uuid NOT NULL REFERENCES societies (id) ON DELETE CASCADE,
    pin_hash    text NOT NULL,
    set_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    set_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, society_id)
);
