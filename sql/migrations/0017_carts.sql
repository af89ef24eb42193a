-- A customer's cart at a shop: lines of a product with the options chosen for it. The same product with the
-- same options is one line, whose quantity grows.
CREATE TABLE cart_items (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shop_id     uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    product_id  uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    option_ids  uuid[] NOT NULL DEFAULT '{}',
    quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, product_id, option_ids)
);
CREATE INDEX cart_items_user_shop_idx ON cart_items (user_id, shop_id, added_at);
