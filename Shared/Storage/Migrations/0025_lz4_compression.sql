-- Large values (raw messages, HTML bodies, attachments, mail text and its search vector) are compressed with lz4
-- instead of pglz as they are stored out of line. Importing a mailbox, pglz took about a quarter of PostgreSQL's
-- time (27 % of its CPU samples); lz4 takes a thirtieth of that, and the first sync of a mailbox became about a
-- third faster (docs/email-ingestor.md "Benchmark"). lz4 compresses a little less; values stored before keep
-- pglz and are read as before.
--
-- A server built without lz4 refuses the setting: there everything stays with pglz.
DO $$
BEGIN
    ALTER TABLE contents ALTER COLUMN raw SET COMPRESSION lz4, ALTER COLUMN html SET COMPRESSION lz4;
    ALTER TABLE attachments ALTER COLUMN content SET COMPRESSION lz4;
    ALTER TABLE communications ALTER COLUMN content SET COMPRESSION lz4, ALTER COLUMN search SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL was built without lz4: large values stay compressed with pglz';
END
$$;
