-- Calls (call-bridge). A call is one communication of type phone, source 'phone', source_ref
-- '<source>:<call_id>'. Its events are kept as they arrived, so that the call is recomputed from all of
-- them in seq order: the same events, duplicated or shuffled, always give the same call.

CREATE TABLE call_events (
    organisation_id text NOT NULL,
    source          text NOT NULL,
    call_id         text NOT NULL,
    seq             integer NOT NULL CHECK (seq >= 0),
    kind            text NOT NULL CHECK (kind IN ('ringing', 'answered', 'ended', 'recording')),
    -- The normalised phone.call.event data as received.
    event           jsonb NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, source, call_id, seq, kind)
);

ALTER TABLE call_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON call_events
    USING (organisation_id = commlog_current_organisation())
    WITH CHECK (organisation_id = commlog_current_organisation());

-- Progress and health of each SMDR link, written by the replica holding its lease.
ALTER TABLE smdr_links ADD COLUMN last_connected_at timestamptz;
ALTER TABLE smdr_links ADD COLUMN last_error text;
ALTER TABLE smdr_links ADD COLUMN last_error_at timestamptz;
ALTER TABLE smdr_links ADD COLUMN records_total bigint NOT NULL DEFAULT 0;
ALTER TABLE smdr_links ADD COLUMN skipped_total bigint NOT NULL DEFAULT 0;

-- The call bridge works across organisations in two places: it connects every enabled SMDR link, and it
-- looks for calls left open. Row-level security hides other tenants from commlog_app, so these two
-- functions (running as their owner) return exactly what that work needs and nothing more.

CREATE FUNCTION commlog_smdr_links()
    RETURNS TABLE (organisation_id text, id uuid, host text, port integer, layout jsonb, timezone text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT l.organisation_id, l.id, l.host, l.port, l.layout, coalesce(o.timezone, 'UTC')
        FROM smdr_links l LEFT JOIN organisations o ON o.id = l.organisation_id
        WHERE l.enabled
        ORDER BY l.organisation_id, l.id
    $$;

CREATE FUNCTION commlog_organisations_with_open_calls(before timestamptz)
    RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT DISTINCT organisation_id FROM communications
        WHERE status = 'open' AND type = 'phone' AND deleted_at IS NULL AND occurred_at < before
    $$;

REVOKE ALL ON FUNCTION commlog_smdr_links() FROM PUBLIC;
REVOKE ALL ON FUNCTION commlog_organisations_with_open_calls(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION commlog_smdr_links() TO commlog_app;
GRANT EXECUTE ON FUNCTION commlog_organisations_with_open_calls(timestamptz) TO commlog_app;
