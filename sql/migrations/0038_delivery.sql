-- How an order reaches its customer: picked up at the counter, served at a table, or delivered. A
-- delivery order keeps the address it goes to as it was when ordered, and moves paid → shipped (by a
-- carrier, with a tracking number) → delivered, or is returned.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (
    'pending', 'paid', 'preparing', 'ready', 'completed', 'cancelled', 'shipped', 'delivered', 'returned'));
ALTER TABLE orders ADD COLUMN fulfilment text NOT NULL DEFAULT 'pickup'
    CHECK (fulfilment IN ('pickup', 'dine_in', 'delivery'));
ALTER TABLE orders ADD COLUMN shipping_address jsonb;
ALTER TABLE orders ADD COLUMN carrier text CHECK (length(carrier) BETWEEN 1 AND 100);
ALTER TABLE orders ADD COLUMN tracking_number text CHECK (length(tracking_number) BETWEEN 1 AND 100);
ALTER TABLE orders ADD CONSTRAINT orders_delivery_address_check
    CHECK ((fulfilment = 'delivery') = (shipping_address IS NOT NULL));
ALTER TABLE orders ADD CONSTRAINT orders_shipment_check CHECK ((carrier IS NULL) = (tracking_number IS NULL));
