-- The delivery addresses a person keeps, one of them the default; a deleted account's go with its data.

CREATE TABLE addresses (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label        text CHECK (length(label) <= 50),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    line1        text NOT NULL CHECK (length(line1) BETWEEN 1 AND 200),
    line2        text CHECK (length(line2) <= 200),
    city         text NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    region       text CHECK (length(region) <= 100),
    postal_code  text NOT NULL CHECK (length(postal_code) BETWEEN 1 AND 20),
    country      text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    phone        text CHECK (length(phone) <= 32),
    is_default   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user_idx ON addresses (user_id, created_at);
CREATE UNIQUE INDEX addresses_one_default_idx ON addresses (user_id) WHERE is_default;
