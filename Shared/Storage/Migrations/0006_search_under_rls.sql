-- Free-text search under row-level security. The @@ operator is not leakproof, so in a query of
-- commlog_app PostgreSQL evaluates it only after the tenant policy and never through the GIN index
-- communications_search: an organisation-wide search read the whole log (2 s on 10 million entries).
-- This function reads the index as the owner, whom the policies do not bind, and applies the same tenant
-- condition itself: it only ever returns entries of the organisation of the caller's transaction.
CREATE FUNCTION commlog_search_matches(query tsquery) RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT c.id FROM public.communications c
    WHERE c.organisation_id = public.commlog_current_organisation() AND c.deleted_at IS NULL AND c.search @@ query
$$;
REVOKE ALL ON FUNCTION commlog_search_matches(tsquery) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION commlog_search_matches(tsquery) TO commlog_app;
