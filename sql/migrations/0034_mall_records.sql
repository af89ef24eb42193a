-- The mall's records: the cars its parking knows, by plate (a car entering adds itself), and the
-- shop an issue happened at, so a shop's issues can be found.

-- Plates are [A-Z0-9] only; the C collation lets `plate LIKE 'KA01%'` use the unique index.
CREATE TABLE cars (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mall_id       uuid NOT NULL REFERENCES malls (id) ON DELETE CASCADE,
    plate         text COLLATE "C" NOT NULL CHECK (plate ~ '^[A-Z0-9]{2,15}$'),
    colour        text CHECK (length(colour) <= 40),
    note          text CHECK (length(note) <= 500),
    last_seen_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (mall_id, plate)
);

INSERT INTO cars (mall_id, plate, colour, last_seen_at, created_at, updated_at)
SELECT mall_id, plate,
       (array_agg(colour ORDER BY entered_at DESC) FILTER (WHERE colour IS NOT NULL))[1],
       max(entered_at), min(entered_at), max(entered_at)
FROM car_visits GROUP BY mall_id, plate;

ALTER TABLE issues ADD COLUMN shop_id uuid REFERENCES shops (id) ON DELETE SET NULL;
CREATE INDEX issues_shop_idx ON issues (shop_id, created_at DESC, id DESC) WHERE shop_id IS NOT NULL;
CREATE INDEX issues_mall_type_idx ON issues (mall_id, issue_type, created_at DESC, id DESC);
