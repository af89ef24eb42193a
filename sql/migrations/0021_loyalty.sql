-- Loyalty: a customer's points at a shop, earned on paid orders and spent on later ones. The account holds
-- the balance the conditional writes guard (never below zero); the ledger holds every change with its
-- order, so a balance can always be explained. A point is worth one minor unit of the shop's currency.

ALTER TABLE commerce_config
    ADD COLUMN loyalty_earn_bp integer CHECK (loyalty_earn_bp BETWEEN 0 AND 10000),
    ADD COLUMN loyalty_redeem_max_bp integer CHECK (loyalty_redeem_max_bp BETWEEN 0 AND 10000);
-- 1 % of what a paid order cost comes back as points; points pay for at most half of an order.
UPDATE commerce_config SET loyalty_earn_bp = 100, loyalty_redeem_max_bp = 5000 WHERE shop_id IS NULL;

CREATE TABLE loyalty_accounts (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shop_id     uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    balance     bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, shop_id)
);

CREATE TABLE loyalty_moves (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shop_id        uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('earn', 'redeem', 'refund', 'reversal')),
    change         bigint NOT NULL,
    balance_after  bigint NOT NULL CHECK (balance_after >= 0),
    order_id       uuid REFERENCES orders (id) ON DELETE SET NULL,
    at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX loyalty_moves_account_idx ON loyalty_moves (user_id, shop_id, id DESC);

ALTER TABLE orders
    ADD COLUMN points_redeemed bigint NOT NULL DEFAULT 0 CHECK (points_redeemed >= 0),
    ADD COLUMN points_earned bigint NOT NULL DEFAULT 0 CHECK (points_earned >= 0),
    DROP CONSTRAINT orders_check,
    ADD CONSTRAINT orders_sums_check CHECK (total = subtotal - discount - points_redeemed + tax);
