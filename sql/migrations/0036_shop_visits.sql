-- Customers' visits to the mall's shops: checked in at the counter by the shop's staff, or by the
-- customer scanning the code the counter shows. One visit per customer, shop and day (on the mall's
-- clock): checking in again that day finds the first.
CREATE TABLE shop_visits (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id      uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day          date NOT NULL,
    method       text NOT NULL CHECK (method IN ('counter', 'qr')),
    recorded_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    visited_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, user_id, day)
);
CREATE INDEX shop_visits_user_idx ON shop_visits (user_id, visited_at DESC, id DESC);
CREATE INDEX shop_visits_day_idx ON shop_visits (shop_id, day);
