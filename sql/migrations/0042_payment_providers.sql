-- More than one payment provider (Stripe, Razorpay), for orders and for ticket checkouts, and refunds of
-- money taken at the counter recorded as the money moves they are.
--
-- An order may have an intent at each provider (the customer chooses); the one that pays it is in
-- `payments`, and money from another is given back. Razorpay's intent is a payment link: no client secret,
-- a `payment_url` the customer opens.
ALTER TABLE payments DROP CONSTRAINT payments_method_check;
ALTER TABLE payments
    ADD CONSTRAINT payments_method_check CHECK (method IN ('cash', 'card', 'wallet', 'stripe', 'razorpay'));

ALTER TABLE payment_intents DROP CONSTRAINT payment_intents_pkey;
ALTER TABLE payment_intents ADD PRIMARY KEY (order_id, provider);
ALTER TABLE payment_intents DROP CONSTRAINT payment_intents_provider_check;
ALTER TABLE payment_intents
    ADD CONSTRAINT payment_intents_provider_check CHECK (provider IN ('stripe', 'razorpay')),
    ALTER COLUMN client_secret DROP NOT NULL,
    ADD COLUMN payment_url text;

-- A refund names the provider's payment it gives back in `intent_id` (a Stripe PaymentIntent, a Razorpay
-- payment); one handed back at the counter (cash, card, wallet) names none, and is done when recorded.
ALTER TABLE refunds DROP CONSTRAINT refunds_provider_check;
ALTER TABLE refunds
    ADD CONSTRAINT refunds_provider_check CHECK (provider IN ('stripe', 'razorpay', 'cash', 'card', 'wallet')),
    ALTER COLUMN intent_id DROP NOT NULL,
    ADD CONSTRAINT refunds_counter_check CHECK ((provider IN ('cash', 'card', 'wallet')) = (intent_id IS NULL));
CREATE UNIQUE INDEX refunds_counter_idx ON refunds (order_id) WHERE intent_id IS NULL;

-- Ticket checkouts are paid online too: an intent per provider while reserved, the provider's payment kept
-- with the checkout once paid (what a refund names), and each refund of a paid checkout, at the counter or
-- through the provider by a job.
ALTER TABLE ticket_checkouts DROP CONSTRAINT ticket_checkouts_payment_method_check;
ALTER TABLE ticket_checkouts
    ADD CONSTRAINT ticket_checkouts_payment_method_check
        CHECK (payment_method IN ('cash', 'card', 'wallet', 'stripe', 'razorpay')),
    ADD COLUMN payment_ref text UNIQUE;

CREATE TABLE ticket_payment_intents (
    checkout_id    uuid NOT NULL REFERENCES ticket_checkouts (id) ON DELETE CASCADE,
    provider       text NOT NULL CHECK (provider IN ('stripe', 'razorpay')),
    intent_id      text NOT NULL UNIQUE,
    client_secret  text,
    payment_url    text,
    amount         bigint NOT NULL CHECK (amount > 0),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status         text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (checkout_id, provider)
);

CREATE TABLE ticket_refunds (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    checkout_id   uuid NOT NULL REFERENCES ticket_checkouts (id) ON DELETE CASCADE,
    provider      text NOT NULL CHECK (provider IN ('stripe', 'razorpay', 'cash', 'card', 'wallet')),
    payment_ref   text UNIQUE,  -- the provider's payment given back; none for the counter
    amount        bigint NOT NULL CHECK (amount > 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason        text NOT NULL CHECK (reason IN ('refunded', 'not_payable')),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_ref  text UNIQUE,  -- the provider's refund id, once it took the request
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((provider IN ('cash', 'card', 'wallet')) = (payment_ref IS NULL))
);
CREATE INDEX ticket_refunds_checkout_idx ON ticket_refunds (checkout_id);
CREATE UNIQUE INDEX ticket_refunds_counter_idx ON ticket_refunds (checkout_id) WHERE payment_ref IS NULL;
