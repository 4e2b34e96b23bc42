-- The board's free-text search, newest matches first.
--
-- commlog_search_matches (0006) returns every entry matching the words, and the page then looks each one up
-- again and sorts them: a word in a thousand entries of ten million costs two thousand reads for a page of
-- fifty, and a common word hundreds of thousands.
--
-- commlog_search_newest asks for the `probe` newest matches at or before `before`, planned for the words it
-- is given: PostgreSQL knows from the column's statistics how common they are, and walks the board index
-- newest first testing each entry for a common word (it stops at the probe), or reads the word's matches from
-- the GIN index and sorts them for a rare one. Only those the page may show are looked up again. Every match
-- of the same time as the oldest of them comes along, so that a page cut at that time is whole. With `probe`
-- null, every match (the caller whose other conditions left its page short asks again so).
--
-- (The RUM index, which returns matches in time order, was measured and not taken: it made each insert into
-- communications about seven times slower, README "Design notes".)
--
-- Under row-level security the @@ operator cannot use an index (it is not leakproof): hence a function that
-- runs as the owner and keeps to the transaction's organisation itself.
CREATE FUNCTION commlog_search_newest(query tsquery, before timestamptz, probe integer) RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF probe IS NULL THEN
        RETURN QUERY SELECT c.id FROM public.communications c
            WHERE c.organisation_id = public.commlog_current_organisation() AND c.deleted_at IS NULL
              AND c.search @@ query AND c.occurred_at <= before;
        RETURN;
    END IF;
    -- The words are written into the statement as a literal: planned with a parameter, the planner assumes any
    -- words match one entry in 200 and, for a rare word, walks a large part of the log.
    RETURN QUERY EXECUTE format('
        WITH newest AS (
            SELECT c.id, c.occurred_at FROM public.communications c
            WHERE c.organisation_id = $1 AND c.deleted_at IS NULL AND c.search @@ %1$L::tsquery AND c.occurred_at <= $2
            ORDER BY c.occurred_at DESC, c.id DESC
            LIMIT $3
        )
        SELECT id FROM newest
        UNION
        SELECT c.id FROM public.communications c
        WHERE (SELECT count(*) FROM newest) = $3 AND c.organisation_id = $1 AND c.deleted_at IS NULL
          AND c.occurred_at = (SELECT min(occurred_at) FROM newest) AND c.search @@ %1$L::tsquery', query)
        USING public.commlog_current_organisation(), before, probe;
END
$$;
REVOKE ALL ON FUNCTION commlog_search_newest(tsquery, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION commlog_search_newest(tsquery, timestamptz, integer) TO commlog_app;

-- How common each word is, for that plan: with the default target a word outside the thousand or so most
-- common is taken to be in one entry in 200 or so, and a page of a rare word walked the log. (Autovacuum's
-- next analyse of the table applies it; this one does now.)
ALTER TABLE communications ALTER COLUMN search SET STATISTICS 1000;
ANALYZE communications (search);
