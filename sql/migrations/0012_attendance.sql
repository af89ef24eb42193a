-- Staff clock in and out: a shift at a shop (its employees and managers) or at the mall (its
-- security staff). One open shift per person, decided by a unique index.
CREATE TABLE shifts (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mall_id        uuid NOT NULL REFERENCES malls (id) ON DELETE CASCADE,
    shop_id        uuid REFERENCES shops (id) ON DELETE CASCADE,
    clock_in_at    timestamptz NOT NULL DEFAULT now(),
    clock_out_at   timestamptz,
    CHECK (clock_out_at IS NULL OR clock_out_at >= clock_in_at)
);
CREATE UNIQUE INDEX shifts_open_idx ON shifts (user_id) WHERE clock_out_at IS NULL;
CREATE INDEX shifts_mall_idx ON shifts (mall_id, clock_in_at);
CREATE INDEX shifts_shop_idx ON shifts (shop_id, clock_in_at);
CREATE INDEX shifts_user_idx ON shifts (user_id, clock_in_at);
