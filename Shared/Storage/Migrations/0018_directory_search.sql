-- Directory look-ups (GET /v1/directory/search): staff find a client, patient, connection or colleague by the
-- start of any word of their name, or by the start of an email address or phone number.
--
-- Names: every word and phrase of a record's name, lower-cased, in `directory_words`, kept by a trigger on the
-- four tables so that whichever program writes the directory, the words follow. A prefix search is then one range scan of a
-- B-tree in the "C" collation (LIKE 'smi%' can use it whatever the database's collation).
CREATE TABLE directory_words (
    organisation_id text NOT NULL,
    word            text COLLATE "C" NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('client', 'patient', 'connection', 'staff')),
    id              text NOT NULL,
    PRIMARY KEY (organisation_id, word, kind, id)
);
CREATE INDEX directory_words_by_record ON directory_words (organisation_id, kind, id);

ALTER TABLE directory_words ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON directory_words
    USING (organisation_id = commlog_current_organisation())
    WITH CHECK (organisation_id = commlog_current_organisation());

-- The terms of a name: its distinct lower-case words (runs of letters and digits), and, for a name of two to six
-- words, its phrases: a space, then the words in order from each one in turn ("Olivia Smith": " olivia smith" and
-- " smith olivia"), so that "olivia sm" and "smith ol" are each one range scan.
CREATE FUNCTION commlog_name_terms(name text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH words AS (
        SELECT array_agg(left(w, 100) ORDER BY n) AS a
        FROM regexp_split_to_table(lower(name), '[^[:alnum:]]+') WITH ORDINALITY AS s(w, n) WHERE w <> '')
    SELECT DISTINCT w FROM words, unnest(a) AS w
    UNION
    SELECT left(' ' || array_to_string(a[i:] || a[:i - 1], ' '), 300) FROM words, generate_series(1, cardinality(a)) AS i
    WHERE cardinality(a) BETWEEN 2 AND 6
$$;
GRANT EXECUTE ON FUNCTION commlog_name_terms(text) TO commlog_app;

-- A deleted record is found no more; its words come back when it is restored.
CREATE FUNCTION commlog_directory_words_refresh() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM directory_words WHERE organisation_id = OLD.organisation_id AND kind = TG_ARGV[0] AND id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        INSERT INTO directory_words (organisation_id, word, kind, id)
        SELECT NEW.organisation_id, w, TG_ARGV[0], NEW.id FROM commlog_name_terms(NEW.name) AS w
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER directory_words AFTER INSERT OR DELETE OR UPDATE OF name, deleted_at, id ON clients
    FOR EACH ROW EXECUTE FUNCTION commlog_directory_words_refresh('client');
CREATE TRIGGER directory_words AFTER INSERT OR DELETE OR UPDATE OF name, deleted_at, id ON patients
    FOR EACH ROW EXECUTE FUNCTION commlog_directory_words_refresh('patient');
CREATE TRIGGER directory_words AFTER INSERT OR DELETE OR UPDATE OF name, deleted_at, id ON connections
    FOR EACH ROW EXECUTE FUNCTION commlog_directory_words_refresh('connection');
CREATE TRIGGER directory_words AFTER INSERT OR DELETE OR UPDATE OF name, deleted_at, id ON staff
    FOR EACH ROW EXECUTE FUNCTION commlog_directory_words_refresh('staff');

INSERT INTO directory_words (organisation_id, word, kind, id)
SELECT organisation_id, w, 'client', id FROM clients, commlog_name_terms(name) AS w WHERE deleted_at IS NULL
UNION ALL SELECT organisation_id, w, 'patient', id FROM patients, commlog_name_terms(name) AS w WHERE deleted_at IS NULL
UNION ALL SELECT organisation_id, w, 'connection', id FROM connections, commlog_name_terms(name) AS w WHERE deleted_at IS NULL
UNION ALL SELECT organisation_id, w, 'staff', id FROM staff, commlog_name_terms(name) AS w WHERE deleted_at IS NULL
ON CONFLICT DO NOTHING;

-- Addresses: contact_points holds them normalised (emails lower-cased, phones in E.164); a prefix of one is a
-- range scan of this index.
CREATE INDEX contact_points_prefix ON contact_points (organisation_id, kind, value text_pattern_ops);

-- The look-up itself (GET /v1/directory/search), as one function so that each connection plans it once: a look-up
-- is about a millisecond of work, and planning the statement anew cost three. It runs with the caller's rights
-- under every policy, in the organisation it is given (for the rest of the statement's transaction, as
-- commlog_read does).
--
-- Names: several typed words as a phrase of the name (`phrase`, " olivia sm"); the longest typed word (`lead`)
-- when there is no phrase or the phrases found fewer than a page; every typed word must begin a word of the name
-- (typed words are letters and digits only). Addresses: the starts in `range_starts`, each in the contact_points
-- kind of `range_kinds` ('email', 'phone', 'extension'); an address finds a record only for those who may see its
-- contact details (`sees_everything`, the client's related staff, a staff member themselves), an extension for
-- all. Address matches first, then names that begin with `typed`, then the others, by name.
CREATE FUNCTION commlog_directory_search(
    organisation text, kinds text[], phrase text, lead text, lead_rows integer, typed_words text[],
    range_kinds text[], range_starts text[], sees_everything boolean, caller_staff text, typed text, page_size integer, per_range integer
) RETURNS TABLE (kind text, id text, name text, client_id text, client_name text, relationship text, roles text[], extension text,
                 emails text[], phones text[], may_contact boolean, matched text)
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
    IF organisation IS NULL OR organisation = '' THEN
        RAISE EXCEPTION 'commlog_directory_search: no organisation given';
    END IF;
    PERFORM set_config('commlog.organisation_id', organisation, true);
    RETURN QUERY
    WITH by_phrase AS (
        SELECT d.kind, d.id, 'name'::text AS matched FROM directory_words d
        WHERE phrase <> '' AND d.organisation_id = organisation AND d.kind = ANY(kinds)
          AND d.word >= phrase AND d.word < phrase || U&'\+10FFFF'
        ORDER BY d.word LIMIT per_range
    ), by_word AS (
        SELECT d.kind, d.id, 'name'::text AS matched FROM directory_words d
        WHERE lead <> '' AND (phrase = '' OR (SELECT count(*) FROM by_phrase) < page_size)
          AND d.organisation_id = organisation AND d.kind = ANY(kinds) AND d.word >= lead AND d.word < lead || U&'\+10FFFF'
        ORDER BY d.word LIMIT lead_rows
    ), by_address AS (
        SELECT p.owner_kind AS kind, p.owner_id AS id, p.kind AS matched
        FROM unnest(range_kinds, range_starts) AS a(kind, start)
        CROSS JOIN LATERAL (
            SELECT p.owner_kind, p.owner_id, p.kind FROM contact_points p
            WHERE p.organisation_id = organisation AND p.kind = a.kind AND p.owner_kind = ANY(kinds)
              AND p.value ~>=~ a.start AND p.value ~<~ (a.start || U&'\+10FFFF')
            -- No ORDER BY: the primary key's order would win over the prefix index and read every address.
            LIMIT per_range) AS p
    ), hits AS (
        SELECT h.kind, h.id, bool_or(h.matched = 'name') AS by_name, min(h.matched) FILTER (WHERE h.matched <> 'name') AS address
        FROM (SELECT * FROM by_phrase UNION ALL SELECT * FROM by_word UNION ALL SELECT * FROM by_address) AS h
        GROUP BY h.kind, h.id
    ), records AS (
        SELECT 'client'::text AS kind, c.id, c.name, NULL::text AS client_id, NULL::text AS client_name, NULL::text AS relationship,
               NULL::text[] AS roles, NULL::text AS extension, c.emails, c.phones,
               sees_everything OR EXISTS (SELECT 1 FROM related_staff r
                   WHERE r.organisation_id = c.organisation_id AND r.client_id = c.id AND r.staff_id = caller_staff) AS may_contact
        FROM hits h JOIN clients c ON c.organisation_id = organisation AND c.id = h.id
        WHERE h.kind = 'client' AND c.deleted_at IS NULL
        UNION ALL
        SELECT 'patient', p.id, p.name, p.client_id, o.name, NULL, NULL, NULL, '{}', '{}', false
        FROM hits h JOIN patients p ON p.organisation_id = organisation AND p.id = h.id
        LEFT JOIN clients o ON o.organisation_id = p.organisation_id AND o.id = p.client_id
        WHERE h.kind = 'patient' AND p.deleted_at IS NULL
        UNION ALL
        SELECT 'connection', n.id, n.name, n.client_id, o.name, n.relationship, NULL, NULL, n.emails, n.phones,
               sees_everything OR EXISTS (SELECT 1 FROM related_staff r
                   WHERE r.organisation_id = n.organisation_id AND r.client_id = n.client_id AND r.staff_id = caller_staff)
        FROM hits h JOIN connections n ON n.organisation_id = organisation AND n.id = h.id
        LEFT JOIN clients o ON o.organisation_id = n.organisation_id AND o.id = n.client_id
        WHERE h.kind = 'connection' AND n.deleted_at IS NULL
        UNION ALL
        SELECT 'staff', s.id, s.name, NULL, NULL, NULL, s.roles, s.extension,
               CASE WHEN s.email IS NULL THEN '{}' ELSE ARRAY[s.email] END, s.phones, sees_everything OR s.id = caller_staff
        FROM hits h JOIN staff s ON s.organisation_id = organisation AND s.id = h.id
        WHERE h.kind = 'staff' AND s.deleted_at IS NULL
    ), found AS (
        SELECT r.*, CASE
            WHEN h.address = 'extension' OR (h.address IS NOT NULL AND r.may_contact) THEN h.address
            WHEN h.by_name AND NOT EXISTS (SELECT 1 FROM unnest(typed_words) AS t(word)
                                           WHERE lower(r.name) !~ ('(^|[^[:alnum:]])' || t.word)) THEN 'name'
            END AS matched
        FROM records r JOIN hits h ON h.kind = r.kind AND h.id = r.id
    )
    SELECT f.kind, f.id, f.name, f.client_id, f.client_name, f.relationship, f.roles, f.extension, f.emails, f.phones,
           f.may_contact, f.matched
    FROM found f WHERE f.matched IS NOT NULL
    ORDER BY f.matched = 'name', left(lower(f.name), length(typed)) <> typed, lower(f.name), f.kind, f.id
    LIMIT page_size;
END
$$;
REVOKE ALL ON FUNCTION commlog_directory_search(text, text[], text, text, integer, text[], text[], text[], boolean, text, text, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION commlog_directory_search(text, text[], text, text, integer, text[], text[], text[], boolean, text, text, integer, integer) TO commlog_app;
