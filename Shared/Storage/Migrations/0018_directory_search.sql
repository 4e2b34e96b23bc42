-- Directory look-ups (GET /v1/directory/search): staff find a client, patient, connection or colleague by the
-- start of any word of their name, or by the start of an email address or phone number.
--
-- Names: every word of a record's name, lower-cased, in `directory_words`, kept by a trigger on the four tables
-- so that whichever program writes the directory, the words follow. A prefix search is then one range scan of a
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

-- The distinct lower-case words of a name: runs of letters and digits.
CREATE FUNCTION commlog_name_words(name text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT left(word, 100) FROM regexp_split_to_table(lower(name), '[^[:alnum:]]+') AS word WHERE word <> ''
$$;
GRANT EXECUTE ON FUNCTION commlog_name_words(text) TO commlog_app;

-- A deleted record is found no more; its words come back when it is restored.
CREATE FUNCTION commlog_directory_words_refresh() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM directory_words WHERE organisation_id = OLD.organisation_id AND kind = TG_ARGV[0] AND id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        INSERT INTO directory_words (organisation_id, word, kind, id)
        SELECT NEW.organisation_id, w, TG_ARGV[0], NEW.id FROM commlog_name_words(NEW.name) AS w
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
SELECT organisation_id, w, 'client', id FROM clients, commlog_name_words(name) AS w WHERE deleted_at IS NULL
UNION ALL SELECT organisation_id, w, 'patient', id FROM patients, commlog_name_words(name) AS w WHERE deleted_at IS NULL
UNION ALL SELECT organisation_id, w, 'connection', id FROM connections, commlog_name_words(name) AS w WHERE deleted_at IS NULL
UNION ALL SELECT organisation_id, w, 'staff', id FROM staff, commlog_name_words(name) AS w WHERE deleted_at IS NULL
ON CONFLICT DO NOTHING;

-- Addresses: contact_points holds them normalised (emails lower-cased, phones in E.164); a prefix of one is a
-- range scan of this index.
CREATE INDEX contact_points_prefix ON contact_points (organisation_id, kind, value text_pattern_ops);
