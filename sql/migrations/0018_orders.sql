-- Shop commerce, orders: what a customer (or the counter, for a walk-in) ordered, priced by the server
-- when it was made and kept so; each move of its status; the payments staff record for it; and the
-- configuration its prices come from (a global row, and a row per shop that overrides it).

CREATE TABLE commerce_config (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id      uuid UNIQUE REFERENCES shops (id) ON DELETE CASCADE,  -- NULL: the global row
    tax_rate_bp  integer CHECK (tax_rate_bp BETWEEN 0 AND 10000),      -- basis points: 500 is 5 %
    updated_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX commerce_config_global_idx ON commerce_config ((shop_id IS NULL)) WHERE shop_id IS NULL;
INSERT INTO commerce_config (shop_id, tax_rate_bp) VALUES (NULL, 500);

CREATE TABLE orders (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id           uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    customer_id       uuid REFERENCES users (id) ON DELETE SET NULL,
    placed_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    channel           text NOT NULL CHECK (channel IN ('online', 'counter')),
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'paid', 'preparing', 'ready', 'completed', 'cancelled')),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal          bigint NOT NULL CHECK (subtotal >= 0),
    offer_id          uuid,              -- the mall offer it was priced with (kept if the offer goes)
    discount_percent  integer NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 100),
    discount          bigint NOT NULL CHECK (discount >= 0),
    tax_rate_bp       integer NOT NULL CHECK (tax_rate_bp BETWEEN 0 AND 10000),
    tax               bigint NOT NULL CHECK (tax >= 0),
    total             bigint NOT NULL CHECK (total >= 0),
    note              text CHECK (length(note) <= 500),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (total = subtotal - discount + tax)
);
CREATE INDEX orders_shop_idx ON orders (shop_id, created_at DESC, id DESC);
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC, id DESC);

-- A line as it was ordered: the name, options and prices of that moment. `stock_taken` says the product
-- was counted in stock (so a cancellation puts the units back).
CREATE TABLE order_items (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    product_id   uuid REFERENCES products (id) ON DELETE SET NULL,
    name         text NOT NULL,
    options      jsonb NOT NULL DEFAULT '[]',
    quantity     integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    unit_price   bigint NOT NULL CHECK (unit_price >= 0),
    line_total   bigint NOT NULL CHECK (line_total >= 0),
    stock_taken  boolean NOT NULL
);
CREATE INDEX order_items_order_idx ON order_items (order_id, position);

CREATE TABLE order_moves (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_status  text,
    to_status    text NOT NULL,
    actor_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    note         text CHECK (length(note) <= 500),
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_moves_order_idx ON order_moves (order_id, id);

CREATE TABLE payments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    method       text NOT NULL CHECK (method IN ('cash', 'card')),
    amount       bigint NOT NULL CHECK (amount > 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    recorded_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- An order is paid once.
CREATE UNIQUE INDEX payments_order_idx ON payments (order_id);
