-- The board's free-text search, newest matches first, without reading every match.
--
-- commlog_search_matches (0006) returns every entry matching the words, which the page then sorts: a word in
-- a thousand entries of ten million costs a thousand heap reads (about 150 ms) for a page of fifty. With the
-- RUM index access method (Debian's postgresql-15-rum; a superuser creates the extension, as the local stack
-- does), an index that keeps each entry's time with its words returns the matches in time order, so a page
-- reads about as many entries as it shows.
--
-- The index is made only where the extension is installed; elsewhere commlog_search_newest returns every
-- match, as before. Created here in one statement, it holds writes to communications while it builds (about
-- 3 minutes for 10 million entries on 2 cores): on a large log, create it beforehand with
-- CREATE INDEX CONCURRENTLY and this name (docs/operations.md).
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'rum') AND to_regclass('public.communications_search_recent') IS NULL THEN
        CREATE INDEX communications_search_recent ON communications
            USING rum (search rum_tsvector_addon_ops, occurred_at) WITH (attach = 'occurred_at', to = 'search')
            WHERE deleted_at IS NULL;
    END IF;
END
$$;

-- The matches at or before `before`: with the index, the `probe` newest and every other match of the same
-- time as the oldest of them (so that a page cut at that time is whole); without it, or with `probe` null,
-- all of them. The caller that finds too few on its page asks again without a probe.
-- Under row-level security the @@ operator cannot use an index (it is not leakproof): hence a function
-- that runs as the owner and keeps to the transaction's organisation itself.
CREATE FUNCTION commlog_search_newest(query tsquery, before timestamptz, probe integer) RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    organisation text := public.commlog_current_organisation();
    newest uuid[];
    oldest timestamptz;
BEGIN
    IF probe IS NULL OR to_regclass('public.communications_search_recent') IS NULL THEN
        RETURN QUERY SELECT c.id FROM public.communications c
            WHERE c.organisation_id = organisation AND c.deleted_at IS NULL AND c.search @@ query AND c.occurred_at <= before;
        RETURN;
    END IF;
    -- The index orders by the distance to `before`, which must be finite (from infinity all are equally far).
    IF before = 'infinity' THEN
        SELECT max(c.occurred_at) INTO before FROM public.communications c
        WHERE c.organisation_id = organisation AND c.deleted_at IS NULL;
    END IF;
    SELECT array_agg(m.id), min(m.occurred_at) INTO newest, oldest FROM (
        SELECT c.id, c.occurred_at FROM public.communications c
        WHERE c.deleted_at IS NULL AND c.search @@ query AND c.occurred_at <= before AND c.organisation_id = organisation
        ORDER BY c.occurred_at <=| before
        LIMIT probe
    ) m;
    RETURN QUERY SELECT unnest(newest);
    IF cardinality(newest) = probe THEN
        RETURN QUERY SELECT c.id FROM public.communications c
            WHERE c.organisation_id = organisation AND c.deleted_at IS NULL AND c.occurred_at = oldest
              AND c.search @@ query AND c.id <> ALL (newest);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION commlog_search_newest(tsquery, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION commlog_search_newest(tsquery, timestamptz, integer) TO commlog_app;
