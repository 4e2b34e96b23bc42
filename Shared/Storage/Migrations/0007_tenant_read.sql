-- One read under an organisation's row-level security in one statement. A read in a transaction of its
-- own costs four round trips (BEGIN, set the tenant, the query, COMMIT); query-api's list pages spent a
-- quarter of their CPU, and PostgreSQL a fifth of its, on the three that carry no rows. This function sets
-- the tenant for the rest of the transaction and runs the read: called as a statement of its own, the
-- transaction is the statement's, and the setting ends with it.
--
-- It grants nothing the caller does not have: it runs with the caller's rights (SECURITY INVOKER, under
-- every policy), and commlog_app may set the tenant and run any query itself. It is STABLE, so the
-- statement can only read: PostgreSQL refuses INSERT, UPDATE and DELETE in a non-volatile function.
-- The statement is the caller's SQL text; its values come in `parameters` ($1 in the statement, cast
-- where needed: $1[2]::uuid), never in the text.
CREATE FUNCTION commlog_read(organisation text, statement text, parameters text[]) RETURNS SETOF record
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF organisation IS NULL OR organisation = '' THEN
        RAISE EXCEPTION 'commlog_read: no organisation given';
    END IF;
    PERFORM set_config('commlog.organisation_id', organisation, true);
    RETURN QUERY EXECUTE statement USING parameters;
END
$$;
REVOKE ALL ON FUNCTION commlog_read(text, text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION commlog_read(text, text, text[]) TO commlog_app;
