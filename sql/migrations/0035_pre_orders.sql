-- Whether a shop takes orders from its customers while it is closed (pre-orders), global with per-shop
-- overrides like the other flags; off unless switched on.
ALTER TABLE commerce_config ADD COLUMN pre_orders_enabled boolean;
UPDATE commerce_config SET pre_orders_enabled = false WHERE shop_id IS NULL;
