-- What a person lets reach them off the app: news of their orders by e-mail and by push (on until they
-- turn it off) and shops' promotions (off until they opt in; when they last said so is kept as consent).
CREATE TABLE notification_preferences (
    user_id                uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    order_emails           boolean NOT NULL DEFAULT true,
    order_pushes           boolean NOT NULL DEFAULT true,
    promotions             boolean NOT NULL DEFAULT false,
    promotions_changed_at  timestamptz,
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- A shop's message to those of its customers who opted in; a job sends it, each delivery is a row of
-- notification_logs (resource 'promotion'), so a retry sends only to those it has not reached.
CREATE TABLE promotions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id     uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 150),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    status      text NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'sent')),
    audience    integer NOT NULL DEFAULT 0 CHECK (audience >= 0),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX promotions_shop_idx ON promotions (shop_id, created_at DESC, id DESC);
CREATE INDEX promotions_created_by_idx ON promotions (created_by);
