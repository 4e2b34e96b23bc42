-- Call recordings are streamed into storage a chunk at a time as they download, and read back the same way:
-- neither call-bridge nor query-api holds a whole recording. A download writes its chunks under an upload id
-- of its own; the recordings row names the upload that holds its audio once the download is complete, so a
-- half-written upload (a crash, a failed attempt) is never read, and is removed by the next attempt.
CREATE TABLE recording_chunks (
    organisation_id  text NOT NULL,
    upload_id        uuid NOT NULL,
    communication_id uuid NOT NULL,
    -- Chunk number from 0; chunk n holds bytes [n × chunk_size, (n + 1) × chunk_size) of the recording.
    position         integer NOT NULL CHECK (position >= 0),
    bytes            bytea NOT NULL,
    PRIMARY KEY (organisation_id, upload_id, position),
    FOREIGN KEY (organisation_id, communication_id) REFERENCES communications ON DELETE CASCADE
);
CREATE INDEX recording_chunks_by_call ON recording_chunks (organisation_id, communication_id);
-- Audio does not compress: store it out of line as it is.
ALTER TABLE recording_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
ALTER TABLE recording_chunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON recording_chunks
    USING (organisation_id = commlog_current_organisation())
    WITH CHECK (organisation_id = commlog_current_organisation());

ALTER TABLE recordings ADD COLUMN upload_id uuid;
ALTER TABLE recordings ADD COLUMN chunk_size integer CHECK (chunk_size > 0);

-- Recordings stored whole before: split into chunks of 1 MiB.
WITH moved AS (
    UPDATE recordings SET upload_id = gen_random_uuid(), chunk_size = 1048576
    WHERE content IS NOT NULL
    RETURNING organisation_id, communication_id, upload_id, content
)
INSERT INTO recording_chunks (organisation_id, upload_id, communication_id, position, bytes)
SELECT m.organisation_id, m.upload_id, m.communication_id, n, substring(m.content FROM n * 1048576 + 1 FOR 1048576)
FROM moved m, generate_series(0, greatest(octet_length(m.content) - 1, 0) / 1048576) AS n;

ALTER TABLE recordings DROP COLUMN content;
