-- The mall domain: its scope types and roles, the malls and their shops, and
-- the parking (cars entering and leaving, charged by the mall's tariff).

INSERT INTO scope_types (name) VALUES ('mall'), ('shop');
INSERT INTO roles (name, scope_type) VALUES
    ('mall_admin', 'mall'), ('security', 'mall'), ('employee', 'shop'), ('shop_manager', 'shop');

-- Money is integer minor units of `currency` (paise for INR).
CREATE TABLE malls (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address               text CHECK (length(address) <= 500),
    timezone              text NOT NULL CHECK (length(timezone) BETWEEN 1 AND 64),
    currency              text NOT NULL DEFAULT 'INR' CHECK (currency ~ '^[A-Z]{3}$'),
    parking_free_minutes  integer NOT NULL DEFAULT 15 CHECK (parking_free_minutes BETWEEN 0 AND 1440),
    parking_hourly_price  bigint NOT NULL DEFAULT 0 CHECK (parking_hourly_price >= 0),
    parking_daily_cap     bigint CHECK (parking_daily_cap >= 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX malls_created_idx ON malls (created_at, id);

CREATE TABLE shops (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mall_id     uuid NOT NULL REFERENCES malls (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    shop_type   text NOT NULL CHECK (shop_type IN ('retail', 'food', 'cafe', 'services', 'entertainment', 'other')),
    location    text CHECK (length(location) <= 100),
    floor       integer CHECK (floor BETWEEN -10 AND 300),
    opens_at    time,
    closes_at   time,
    phone       text CHECK (length(phone) <= 32),
    image_url   text CHECK (length(image_url) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (mall_id, name),
    CHECK ((opens_at IS NULL) = (closes_at IS NULL))
);
CREATE INDEX shops_mall_idx ON shops (mall_id, created_at, id);

-- What a stay costs: the first `free_minutes` cost nothing; past them every started hour of the whole
-- stay costs `hourly`, and each started day at most `daily_cap` (when set).
CREATE FUNCTION parking_cost(
    entered timestamptz, exited timestamptz, free_minutes integer, hourly bigint, daily_cap bigint
) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN exited - entered <= make_interval(mins => free_minutes) THEN 0
        ELSE (
            SELECT coalesce(sum(CASE WHEN daily_cap IS NULL THEN day_hours * hourly
                                     ELSE least(day_hours * hourly, daily_cap) END), 0)::bigint
            FROM (
                SELECT least(24, hours - 24 * d) AS day_hours
                FROM (SELECT ceil(extract(epoch FROM exited - entered) / 3600)::bigint AS hours) h,
                     generate_series(0, (ceil(extract(epoch FROM exited - entered) / 3600)::bigint - 1) / 24) AS d
            ) days
        )
    END
$$;

CREATE TABLE car_visits (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mall_id      uuid NOT NULL REFERENCES malls (id) ON DELETE CASCADE,
    plate        text NOT NULL CHECK (plate ~ '^[A-Z0-9]{2,15}$'),
    colour       text CHECK (length(colour) <= 40),
    section      text NOT NULL CHECK (length(section) BETWEEN 1 AND 40),
    entered_at   timestamptz NOT NULL DEFAULT now(),
    entered_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    exited_at    timestamptz,
    exited_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    cost         bigint CHECK (cost >= 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    CHECK ((exited_at IS NULL) = (cost IS NULL))
);
-- A car is inside at most once: a second entry fails here, whatever the timing.
CREATE UNIQUE INDEX car_visits_inside_idx ON car_visits (mall_id, plate) WHERE exited_at IS NULL;
CREATE INDEX car_visits_mall_idx ON car_visits (mall_id, entered_at DESC, id DESC);
CREATE INDEX car_visits_plate_idx ON car_visits (plate, entered_at DESC);
