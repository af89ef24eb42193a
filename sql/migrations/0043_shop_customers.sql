-- A shop's own customer records, for people served at the counter who have no account (the cafe's
-- regulars): name, phone, e-mail, a note. Later the staff link a record to the account with its phone or
-- e-mail; its orders then show in that account's history and its points move there.
CREATE TABLE shop_customers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id     uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone       text CHECK (length(phone) <= 32),
    email       text CHECK (length(email) <= 254),
    note        text CHECK (length(note) <= 1000),
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    linked_at   timestamptz,
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX shop_customers_account_key ON shop_customers (shop_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX shop_customers_phone_key ON shop_customers (shop_id, regexp_replace(phone, '\D', '', 'g'))
    WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX shop_customers_email_key ON shop_customers (shop_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX shop_customers_name_idx ON shop_customers (shop_id, lower(name), id);
CREATE INDEX shop_customers_user_idx ON shop_customers (user_id);
CREATE INDEX shop_customers_created_by_idx ON shop_customers (created_by);

ALTER TABLE orders ADD COLUMN shop_customer_id uuid REFERENCES shop_customers (id) ON DELETE SET NULL;
CREATE INDEX orders_shop_customer_idx ON orders (shop_customer_id, created_at DESC, id DESC);

-- Points are held by an account or by a record, at one shop. Linking moves a record's balance to the account
-- as a pair of `transfer` moves, so each ledger still adds up.
ALTER TABLE loyalty_accounts DROP CONSTRAINT loyalty_accounts_pkey;
ALTER TABLE loyalty_accounts
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ALTER COLUMN user_id DROP NOT NULL,
    ADD COLUMN shop_customer_id uuid REFERENCES shop_customers (id) ON DELETE CASCADE,
    ADD CONSTRAINT loyalty_accounts_holder_check CHECK (num_nonnulls(user_id, shop_customer_id) = 1);
CREATE UNIQUE INDEX loyalty_accounts_user_key ON loyalty_accounts (user_id, shop_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX loyalty_accounts_record_key ON loyalty_accounts (shop_customer_id)
    WHERE shop_customer_id IS NOT NULL;

ALTER TABLE loyalty_moves
    ALTER COLUMN user_id DROP NOT NULL,
    ADD COLUMN shop_customer_id uuid REFERENCES shop_customers (id) ON DELETE CASCADE,
    ADD CONSTRAINT loyalty_moves_holder_check CHECK (num_nonnulls(user_id, shop_customer_id) = 1);
ALTER TABLE loyalty_moves DROP CONSTRAINT loyalty_moves_kind_check;
ALTER TABLE loyalty_moves ADD CONSTRAINT loyalty_moves_kind_check
    CHECK (kind IN ('earn', 'redeem', 'refund', 'reversal', 'transfer'));
CREATE INDEX loyalty_moves_record_idx ON loyalty_moves (shop_customer_id, id DESC);
