-- Feature flags in the commerce configuration, global with per-shop overrides like the rates: whether a
-- shop's customers earn and spend loyalty points, and whether they may pay online.

ALTER TABLE commerce_config
    ADD COLUMN loyalty_enabled boolean,
    ADD COLUMN online_payments_enabled boolean;
UPDATE commerce_config SET loyalty_enabled = true, online_payments_enabled = true WHERE shop_id IS NULL;
