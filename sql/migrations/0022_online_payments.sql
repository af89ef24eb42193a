-- Online payments: the payment intent a customer's app completes at the provider (Stripe), the provider's
-- webhook events (each processed once, by its id), and refunds of money that came in for an order that was
-- cancelled or did not need it. A provider's payment is recorded in `payments` with its id.

ALTER TABLE payments DROP CONSTRAINT payments_method_check;
ALTER TABLE payments
    ADD CONSTRAINT payments_method_check CHECK (method IN ('cash', 'card', 'stripe')),
    ADD COLUMN provider_ref text UNIQUE;  -- the provider's id of the payment (a Stripe PaymentIntent)

-- One intent per order: asking again gives the same one back.
CREATE TABLE payment_intents (
    order_id       uuid PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    provider       text NOT NULL CHECK (provider IN ('stripe')),
    intent_id      text NOT NULL UNIQUE,
    client_secret  text NOT NULL,
    amount         bigint NOT NULL CHECK (amount > 0),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status         text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_events (
    provider     text NOT NULL,
    event_id     text NOT NULL,
    type         text NOT NULL,
    outcome      text NOT NULL,  -- what it did: paid, refunding, recorded, ignored, unknown_intent
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- Money to give back through the provider, at most once per provider payment; a durable job asks for it.
CREATE TABLE refunds (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    provider      text NOT NULL CHECK (provider IN ('stripe')),
    intent_id     text NOT NULL UNIQUE,
    amount        bigint NOT NULL CHECK (amount > 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason        text NOT NULL CHECK (reason IN ('cancelled', 'not_payable')),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_ref  text UNIQUE,  -- the provider's refund id, once it took the request
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_order_idx ON refunds (order_id);
