-- Shop commerce, the catalogue: each shop's categories and products, the choices a product offers
-- (modifier groups and their options), and a search document per product.
-- Money is integer minor units of the shop's mall's currency, as everywhere.

CREATE TABLE product_categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id     uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, name)
);

-- `stock` counts units on hand; NULL is a made-to-order item (a coffee), whose ingredients are counted
-- in the shop's inventory instead.
CREATE TABLE products (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id       uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    category_id   uuid REFERENCES product_categories (id) ON DELETE SET NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description   text CHECK (length(description) <= 5000),
    brand         text CHECK (length(brand) <= 100),
    price         bigint NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    image_urls    text[] NOT NULL DEFAULT '{}' CHECK (cardinality(image_urls) <= 10),
    active        boolean NOT NULL DEFAULT true,
    stock         integer CHECK (stock >= 0),
    rating_count  integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    rating_sum    integer NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    -- The average rating to sort by (0 without reviews), kept by PostgreSQL.
    rating        numeric(3, 2) GENERATED ALWAYS AS (
        CASE WHEN rating_count > 0 THEN round(rating_sum::numeric / rating_count, 2) ELSE 0 END
    ) STORED,
    -- Name first, then brand, then description: what a search matches and how it ranks.
    search        tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', name), 'A')
        || setweight(to_tsvector('simple', coalesce(brand, '')), 'B')
        || setweight(to_tsvector('simple', coalesce(description, '')), 'C')
    ) STORED,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_shop_created_idx ON products (shop_id, created_at, id);
CREATE INDEX products_shop_price_idx ON products (shop_id, price, id);
CREATE INDEX products_shop_name_idx ON products (shop_id, name, id);
CREATE INDEX products_shop_rating_idx ON products (shop_id, rating, id);
CREATE INDEX products_category_idx ON products (category_id);

-- A choice on a product (size, milk, strap): between `min_choices` and `max_choices` of its options.
CREATE TABLE modifier_groups (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id   uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    min_choices  integer NOT NULL CHECK (min_choices >= 0),
    max_choices  integer NOT NULL CHECK (max_choices >= 1),
    position     integer NOT NULL,
    UNIQUE (product_id, name),
    CHECK (min_choices <= max_choices)
);

-- An option's price is added to the product's (it may take some off: "no milk"; an order never costs less
-- than nothing).
CREATE TABLE modifier_options (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id     uuid NOT NULL REFERENCES modifier_groups (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    price_delta  bigint NOT NULL CHECK (price_delta BETWEEN -1000000000000 AND 1000000000000),
    position     integer NOT NULL,
    UNIQUE (group_id, name)
);
