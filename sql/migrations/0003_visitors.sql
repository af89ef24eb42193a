-- Visitor management: residents and their requests, devices, visitors and
-- their history, visits (partitioned by month), notification logs, and the
-- idempotency keys that make creating POSTs safe to retry.

CREATE TABLE flat_occupancies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    flat_id     uuid NOT NULL REFERENCES flats (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    relation    text NOT NULL CHECK (relation IN ('owner', 'tenant')),
    since       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (flat_id, user_id)
);
CREATE INDEX flat_occupancies_user_idx ON flat_occupancies (user_id);

CREATE TABLE resident_requests (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    flat_id      uuid NOT NULL REFERENCES flats (id) ON DELETE CASCADE,
    society_id   uuid NOT NULL REFERENCES societies (id) ON DELETE CASCADE,
    relation     text NOT NULL CHECK (relation IN ('owner', 'tenant')),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX resident_requests_one_pending ON resident_requests (user_id, flat_id) WHERE status = 'pending';
CREATE INDEX resident_requests_society_idx ON resident_requests (society_id, status, created_at, id);
CREATE INDEX resident_requests_user_idx ON resident_requests (user_id, created_at, id);
CREATE INDEX resident_requests_flat_idx ON resident_requests (flat_id);
CREATE INDEX resident_requests_decided_by_idx ON resident_requests (decided_by);

CREATE TABLE device_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token       text NOT NULL UNIQUE CHECK (length(token) BETWEEN 1 AND 4096),
    platform    text NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_tokens_user_idx ON device_tokens (user_id);

CREATE TABLE visitors (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    society_id      uuid NOT NULL REFERENCES societies (id) ON DELETE CASCADE,
    flat_id         uuid NOT NULL REFERENCES flats (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone           text CHECK (length(phone) <= 32),
    purpose         text CHECK (length(purpose) <= 500),
    vehicle_number  text CHECK (length(vehicle_number) <= 20),
    status          text NOT NULL CHECK (status IN
                        ('pending', 'accepted', 'denied', 'pre_approved', 'checked_in', 'checked_out')),
    invite_code     text UNIQUE CHECK (length(invite_code) BETWEEN 6 AND 12),
    expected_at     timestamptz,
    created_by      uuid NOT NULL REFERENCES users (id),
    responded_by    uuid REFERENCES users (id),
    responded_at    timestamptz,
    response_note   text CHECK (length(response_note) <= 500),
    escalate_at     timestamptz,
    escalated_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'pre_approved') <= (invite_code IS NOT NULL))
);
CREATE INDEX visitors_flat_idx ON visitors (flat_id, created_at DESC, id DESC);
CREATE INDEX visitors_society_idx ON visitors (society_id, created_at DESC, id DESC);
CREATE INDEX visitors_status_idx ON visitors (society_id, status);
CREATE INDEX visitors_created_by_idx ON visitors (created_by);
CREATE INDEX visitors_responded_by_idx ON visitors (responded_by);
CREATE INDEX visitors_expected_idx ON visitors (society_id, expected_at) WHERE status = 'pre_approved';
CREATE INDEX visitors_escalation_due_idx ON visitors (escalate_at) WHERE status = 'pending' AND escalated_at IS NULL;

CREATE TABLE visitor_status_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visitor_id   uuid NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    from_status  text,
    to_status    text NOT NULL,
    actor_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    note         text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visitor_status_history_visitor_idx ON visitor_status_history (visitor_id, id);
CREATE INDEX visitor_status_history_actor_idx ON visitor_status_history (actor_id);

CREATE TABLE visits (
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    visitor_id      uuid NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    society_id      uuid NOT NULL REFERENCES societies (id) ON DELETE CASCADE,
    flat_id         uuid NOT NULL REFERENCES flats (id) ON DELETE CASCADE,
    checkin_at      timestamptz NOT NULL DEFAULT now(),
    checkout_at     timestamptz,
    checked_in_by   uuid NOT NULL REFERENCES users (id),
    checked_out_by  uuid REFERENCES users (id),
    PRIMARY KEY (id, checkin_at),
    CHECK (checkout_at IS NULL OR checkout_at >= checkin_at)
) PARTITION BY RANGE (checkin_at);
CREATE INDEX visits_visitor_idx ON visits (visitor_id);
CREATE INDEX visits_society_idx ON visits (society_id, checkin_at DESC);
CREATE INDEX visits_flat_idx ON visits (flat_id, checkin_at DESC);
CREATE INDEX visits_checked_in_by_idx ON visits (checked_in_by);
CREATE INDEX visits_checked_out_by_idx ON visits (checked_out_by);

-- Monthly partitions from last month to `months_ahead` months ahead; safe to
-- call any time (workers call it daily), so partitions exist before they are needed.
CREATE FUNCTION ensure_visit_partitions(months_ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    first_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date - interval '1 month';
    month date;
    name text;
    made integer := 0;
BEGIN
    FOR i IN 0 .. months_ahead + 1 LOOP
        month := (first_month + make_interval(months => i))::date;
        name := 'visits_' || to_char(month, 'YYYY_MM');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF visits FOR VALUES FROM (%L) TO (%L)',
                name, month::timestamp AT TIME ZONE 'UTC',
                (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
            made := made + 1;
        END IF;
    END LOOP;
    RETURN made;
END $$;
SELECT ensure_visit_partitions(3);

CREATE TABLE notification_logs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    channel        text NOT NULL CHECK (channel IN ('push', 'sms', 'whatsapp', 'email')),
    target         text NOT NULL,
    template       text NOT NULL,
    resource_type  text,
    resource_id    text,
    outcome        text NOT NULL CHECK (outcome IN ('sent', 'logged', 'failed', 'skipped')),
    error          text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_logs_user_idx ON notification_logs (user_id);
CREATE INDEX notification_logs_resource_idx ON notification_logs (resource_type, resource_id);

CREATE TABLE idempotency_keys (
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    scope         text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
