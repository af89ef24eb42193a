-- Issues in a mall, reported by people (staff or customers): a small state machine whose every
-- move is kept with who made it, and the employees each issue is assigned to.
CREATE TABLE issues (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mall_id      uuid NOT NULL REFERENCES malls (id) ON DELETE CASCADE,
    issue_type   text NOT NULL CHECK (length(issue_type) BETWEEN 1 AND 50),
    details      text NOT NULL CHECK (length(details) BETWEEN 1 AND 2000),
    location     text CHECK (length(location) <= 100),
    image_url    text CHECK (length(image_url) <= 500),
    state        text NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'assigned', 'in_progress', 'resolved', 'closed', 'reopened')),
    source       text NOT NULL CHECK (source IN ('staff', 'customer')),
    reported_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issues_mall_idx ON issues (mall_id, created_at DESC, id DESC);
CREATE INDEX issues_mall_state_idx ON issues (mall_id, state);
CREATE INDEX issues_reporter_idx ON issues (reported_by);

CREATE TABLE issue_assignees (
    issue_id     uuid NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issue_id, user_id)
);
CREATE INDEX issue_assignees_user_idx ON issue_assignees (user_id);

CREATE TABLE issue_history (
    id          bigserial PRIMARY KEY,
    issue_id    uuid NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    from_state  text,
    to_state    text NOT NULL,
    actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    note        text CHECK (length(note) <= 500),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issue_history_issue_idx ON issue_history (issue_id, id);
