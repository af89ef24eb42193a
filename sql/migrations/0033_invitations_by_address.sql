-- A Firebase sign-in with a verified e-mail address or phone number takes up the invitations waiting for
-- it: found by the address in either case, or by the number's digits however it was written.

CREATE INDEX role_invitations_email_idx ON role_invitations (lower(email))
    WHERE claimed_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX role_invitations_phone_idx ON role_invitations (regexp_replace(phone, '\D', '', 'g'))
    WHERE claimed_at IS NULL AND cancelled_at IS NULL;
