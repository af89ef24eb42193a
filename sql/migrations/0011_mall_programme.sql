-- What a mall offers: cinemas (shops of type 'cinema'), the movies it shows,
-- showings with their seats, tickets bought for them, and discount offers.

ALTER TABLE shops DROP CONSTRAINT shops_shop_type_check;
ALTER TABLE shops ADD CONSTRAINT shops_shop_type_check
    CHECK (shop_type IN ('retail', 'food', 'cafe', 'services', 'entertainment', 'cinema', 'other'));

CREATE TABLE movies (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mall_id           uuid NOT NULL REFERENCES malls (id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    duration_minutes  integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 600),
    release_date      date,
    description       text CHECK (length(description) <= 2000),
    genre             text CHECK (length(genre) <= 50),
    ticket_price      bigint NOT NULL CHECK (ticket_price >= 0),
    image_url         text CHECK (length(image_url) <= 500),
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (mall_id, name)
);
CREATE INDEX movies_mall_idx ON movies (mall_id, created_at, id);

-- Seats are counted here: a purchase adds to `seats_sold` only while it stays within `seats`.
CREATE TABLE showings (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mall_id       uuid NOT NULL REFERENCES malls (id) ON DELETE CASCADE,
    cinema_id     uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    movie_id      uuid NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    starts_at     timestamptz NOT NULL,
    seats         integer NOT NULL CHECK (seats BETWEEN 1 AND 2000),
    seats_sold    integer NOT NULL DEFAULT 0 CHECK (seats_sold >= 0),
    ticket_price  bigint NOT NULL CHECK (ticket_price >= 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (seats_sold <= seats),
    UNIQUE (cinema_id, starts_at)
);
CREATE INDEX showings_mall_idx ON showings (mall_id, starts_at);
CREATE INDEX showings_cinema_idx ON showings (cinema_id, starts_at);

CREATE TABLE ticket_checkouts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    showing_id  uuid NOT NULL REFERENCES showings (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tickets     integer NOT NULL CHECK (tickets BETWEEN 1 AND 20),
    unit_price  bigint NOT NULL CHECK (unit_price >= 0),
    total       bigint NOT NULL CHECK (total >= 0),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_checkouts_user_idx ON ticket_checkouts (user_id, created_at DESC, id DESC);

CREATE TABLE offers (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mall_id           uuid NOT NULL REFERENCES malls (id) ON DELETE CASCADE,
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description       text CHECK (length(description) <= 2000),
    discount_percent  integer NOT NULL CHECK (discount_percent BETWEEN 1 AND 100),
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX offers_mall_idx ON offers (mall_id, ends_at);

CREATE TABLE offer_shops (
    offer_id  uuid NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    shop_id   uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    PRIMARY KEY (offer_id, shop_id)
);
CREATE INDEX offer_shops_shop_idx ON offer_shops (shop_id);
