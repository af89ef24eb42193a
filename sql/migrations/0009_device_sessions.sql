-- A push token belongs to the signed-in session that registered it: it goes
-- when that session ends (logout, refresh reuse, password reset, disabling),
-- whichever domain ended it; tokens registered before this have no session
-- and stay until re-registered.
ALTER TABLE device_tokens ADD COLUMN session_id uuid REFERENCES auth_sessions (id) ON DELETE CASCADE;
CREATE INDEX device_tokens_session_idx ON device_tokens (session_id);

CREATE FUNCTION forget_session_devices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM device_tokens WHERE session_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER auth_sessions_forget_devices
    AFTER UPDATE OF revoked_at ON auth_sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION forget_session_devices();

-- A token registered by another user ends the session it belonged to: the
-- device changed hands, and the old owner must not keep receiving its alerts.
ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_reason_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'refresh_reuse', 'password_reset', 'disabled', 'device_taken'));
