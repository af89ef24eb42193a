-- A ticket checkout holds its seats while it is `reserved` (until `expires_at`), is `paid` at the cinema's
-- counter (cash, card or wallet), and ends `cancelled` (a reservation let go, or one that ran out) or
-- `refunded` (paid, then given back before the showing): either way its seats are free again. Checkouts
-- made before this were bought outright: they are `paid`.
ALTER TABLE ticket_checkouts
    ADD COLUMN status text NOT NULL DEFAULT 'paid' CHECK (status IN ('reserved', 'paid', 'cancelled', 'refunded')),
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN paid_at timestamptz,
    ADD COLUMN payment_method text CHECK (payment_method IN ('cash', 'card', 'wallet')),
    ADD COLUMN ended_at timestamptz;
UPDATE ticket_checkouts SET paid_at = created_at;
ALTER TABLE ticket_checkouts ALTER COLUMN status SET DEFAULT 'reserved';
ALTER TABLE ticket_checkouts ADD CONSTRAINT ticket_checkouts_paid_check
    CHECK ((status IN ('paid', 'refunded')) = (paid_at IS NOT NULL));
CREATE INDEX ticket_checkouts_expiring_idx ON ticket_checkouts (expires_at) WHERE status = 'reserved';
