-- Shop commerce, inventory: a shop's ingredients (counted in whole units of the smallest measure: grams,
-- millilitres, pieces), the recipes that say how much a made-to-order product (and each of its options)
-- uses, and every change of a quantity as a ledger row with who, why and what was left.

CREATE TABLE inventory_items (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id            uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    unit               text NOT NULL CHECK (unit IN ('g', 'ml', 'piece')),
    quantity           bigint NOT NULL CHECK (quantity >= 0),
    reorder_threshold  bigint NOT NULL DEFAULT 0 CHECK (reorder_threshold >= 0),
    supplier           text CHECK (length(supplier) <= 200),
    -- Set when the quantity fell to the threshold (and `stock_low` went out); cleared by a restock above it.
    low                boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, name)
);

-- How much of an item one unit of a product uses; with `option_id`, what choosing that option adds.
CREATE TABLE recipe_lines (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id  uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    option_id   uuid REFERENCES modifier_options (id) ON DELETE CASCADE,
    item_id     uuid NOT NULL REFERENCES inventory_items (id) ON DELETE CASCADE,
    amount      bigint NOT NULL CHECK (amount > 0)
);
CREATE UNIQUE INDEX recipe_lines_key_idx
    ON recipe_lines (product_id, coalesce(option_id, '00000000-0000-0000-0000-000000000000'), item_id);

CREATE TABLE inventory_moves (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id         uuid NOT NULL REFERENCES inventory_items (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('sale', 'return', 'restock', 'waste', 'correction')),
    change          bigint NOT NULL,
    quantity_after  bigint NOT NULL CHECK (quantity_after >= 0),
    order_id        uuid REFERENCES orders (id) ON DELETE SET NULL,
    actor_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    reason          text CHECK (length(reason) <= 500),
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_moves_item_idx ON inventory_moves (item_id, id DESC);
CREATE INDEX inventory_moves_order_idx ON inventory_moves (order_id) WHERE order_id IS NOT NULL;
