-- Keys the services share, made here and never sent anywhere: one row per purpose. 'page-cursor' signs the page
-- cursors query-api hands out, so a cursor cannot be forged or altered (every replica checks the others').
-- 48 bytes from three version-4 UUIDs: 366 bits from PostgreSQL's strong random source.
CREATE TABLE service_keys (
    purpose    text PRIMARY KEY,
    key        bytea NOT NULL CHECK (length(key) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO service_keys (purpose, key)
VALUES ('page-cursor', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
-- The services read keys; only the owner makes or replaces them.
REVOKE INSERT, UPDATE, DELETE ON service_keys FROM commlog_app;
