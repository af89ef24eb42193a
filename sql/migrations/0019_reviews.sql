-- Reviews of products, by customers who received them: one per customer and product. The product keeps
-- the count and the sum of its ratings, changed in the review's transaction, to sort and show by.
CREATE TABLE product_reviews (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id  uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    rating      integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body        text CHECK (length(body) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (product_id, user_id)
);
CREATE INDEX product_reviews_product_idx ON product_reviews (product_id, created_at DESC, id DESC);
