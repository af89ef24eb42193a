-- A password reset's code is made when the email job sends it (a retry makes a
-- new one), so no plain code waits anywhere: until then the reset has no hash.
ALTER TABLE password_resets ALTER COLUMN code_hash DROP NOT NULL;
