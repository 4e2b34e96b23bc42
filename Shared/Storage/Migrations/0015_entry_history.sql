-- One shape for every history row, whoever writes it: the entry's columns (without its content, search vector
-- and organisation) and its related people. Writers call it on the row before and after their change
-- (`commlog_entry_snapshot(c)`, or on `RETURNING communications.*`).
CREATE FUNCTION commlog_entry_snapshot(entry communications) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT to_jsonb(entry) - 'search' - 'content' - 'organisation_id' || jsonb_build_object('related', coalesce(
        (SELECT jsonb_agg(jsonb_build_object('kind', p.kind, 'id', p.ref_id) ORDER BY p.position)
         FROM public.participants p
         WHERE p.organisation_id = entry.organisation_id AND p.communication_id = entry.id AND p.role = 'related'),
        '[]'::jsonb))
$$;
GRANT EXECUTE ON FUNCTION commlog_entry_snapshot(communications) TO commlog_app;

-- An entry linked to a directory record it was waiting for (its client found by a participant's address) is
-- changed by the system: versioned and kept in the history like any other change.
ALTER TABLE audit_history DROP CONSTRAINT audit_history_action_check;
ALTER TABLE audit_history ADD CONSTRAINT audit_history_action_check
    CHECK (action IN ('create', 'update', 'delete', 'end_call', 'auto_close', 'relink'));
