-- The gate a guard works at, per society, set by its admins (the guard list shows it beside the PIN).

CREATE TABLE guard_posts (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    society_id  uuid NOT NULL REFERENCES societies (id) ON DELETE CASCADE,
    gate        text NOT NULL CHECK (length(gate) BETWEEN 1 AND 100),
    set_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    set_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, society_id)
);
