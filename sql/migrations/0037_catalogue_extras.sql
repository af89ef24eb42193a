-- Catalogue extras: products a shop features, products archived (a product ever ordered is archived,
-- not deleted, so its orders keep pointing at it), customers' favourites, and reviews found by rating.
ALTER TABLE products ADD COLUMN featured boolean NOT NULL DEFAULT false;
ALTER TABLE products ADD COLUMN archived_at timestamptz;
CREATE INDEX products_shop_featured_idx ON products (shop_id, name) WHERE featured AND archived_at IS NULL;
CREATE INDEX products_shop_brand_idx ON products (shop_id, lower(brand));

CREATE TABLE product_favourites (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    product_id  uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, product_id)
);
CREATE INDEX product_favourites_user_idx ON product_favourites (user_id, created_at DESC, product_id DESC);

CREATE INDEX product_reviews_rating_idx ON product_reviews (product_id, rating, created_at, id);

-- Whether a product was ever ordered (and whom it was delivered to, for reviews) is read by product.
CREATE INDEX order_items_product_idx ON order_items (product_id) WHERE product_id IS NOT NULL;
