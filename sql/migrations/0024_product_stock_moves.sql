-- Every change of a counted product's stock as a ledger row, as inventory_moves is for ingredients: what
-- changed it (a sale, a cancelled order's return, a restock, waste, a count), by whom, why, and what was
-- left; so the number on hand can always be explained.

CREATE TABLE product_stock_moves (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id   uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('sale', 'return', 'restock', 'waste', 'correction')),
    change       integer NOT NULL,
    stock_after  integer NOT NULL CHECK (stock_after >= 0),
    order_id     uuid REFERENCES orders (id) ON DELETE SET NULL,
    actor_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    reason       text CHECK (length(reason) <= 500),
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_stock_moves_product_idx ON product_stock_moves (product_id, id DESC);
CREATE INDEX product_stock_moves_order_idx ON product_stock_moves (order_id) WHERE order_id IS NOT NULL;

-- The stock products hold now, as the first row of their ledgers.
INSERT INTO product_stock_moves (product_id, kind, change, stock_after, reason)
SELECT id, 'correction', stock, stock, 'on hand when the ledger began' FROM products WHERE stock IS NOT NULL;
