-- A Twilio integration keeps the account's auth token, sealed like mailbox secrets (COMMLOG_SECRET_KEY), so
-- that call-bridge can verify X-Twilio-Signature on every callback.
ALTER TABLE call_integrations ADD COLUMN twilio_auth_token_ciphertext bytea;
ALTER TABLE call_integrations ADD COLUMN twilio_auth_token_key_id text;
ALTER TABLE call_integrations ADD CONSTRAINT call_integrations_twilio_token_sealed
    CHECK ((twilio_auth_token_ciphertext IS NULL) = (twilio_auth_token_key_id IS NULL));
