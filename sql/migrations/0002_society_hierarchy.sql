-- Society hierarchy: society (in a city) > complex > block > flat.
-- Flats carry their society id so room and permission checks need one lookup.

CREATE TABLE societies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    city        text NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    address     text CHECK (length(address) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX societies_city_idx ON societies (lower(city), created_at, id);

CREATE TABLE complexes (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    society_id  uuid NOT NULL REFERENCES societies (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (society_id, name)
);

CREATE TABLE blocks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    complex_id  uuid NOT NULL REFERENCES complexes (id) ON DELETE CASCADE,
    society_id  uuid NOT NULL REFERENCES societies (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (complex_id, name)
);
CREATE INDEX blocks_society_idx ON blocks (society_id);

CREATE TABLE flats (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    block_id     uuid NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
    society_id   uuid NOT NULL REFERENCES societies (id) ON DELETE CASCADE,
    flat_number  text NOT NULL CHECK (length(flat_number) BETWEEN 1 AND 20),
    floor        integer,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (block_id, flat_number)
);
CREATE INDEX flats_society_idx ON flats (society_id);
