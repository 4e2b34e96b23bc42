-- The functions that run as their owner name every object with its schema and put pg_temp last on their
-- search_path: a caller's temporary table or function can never stand in for one of ours (with pg_temp
-- unlisted, PostgreSQL searches it first).

CREATE OR REPLACE FUNCTION commlog_smdr_links()
    RETURNS TABLE (organisation_id text, id uuid, host text, port integer, layout jsonb, timezone text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT l.organisation_id, l.id, l.host, l.port, l.layout, coalesce(o.timezone, 'UTC')
        FROM public.smdr_links l LEFT JOIN public.organisations o ON o.id = l.organisation_id
        WHERE l.enabled
        ORDER BY l.organisation_id, l.id
    $$;

CREATE OR REPLACE FUNCTION commlog_organisations_with_open_calls(before timestamptz)
    RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT DISTINCT c.organisation_id FROM public.communications c
        WHERE c.status = 'open' AND c.type = 'phone' AND c.deleted_at IS NULL AND c.occurred_at < before
    $$;

CREATE OR REPLACE FUNCTION commlog_mailbox_organisations() RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$ SELECT DISTINCT m.organisation_id FROM public.mailboxes m ORDER BY 1 $$;

CREATE OR REPLACE FUNCTION commlog_search_matches(query tsquery) RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT c.id FROM public.communications c
    WHERE c.organisation_id = public.commlog_current_organisation() AND c.deleted_at IS NULL AND c.search @@ query
$$;
