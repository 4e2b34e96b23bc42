-- Notes imported from the practice's old system (`commlog import notes`) are entries of their own source, `import`,
-- with `import:<legacy id>` as their source_ref: the idempotency key that makes a second run of the same file add nothing.
ALTER TABLE communications DROP CONSTRAINT communications_source_check;
ALTER TABLE communications ADD CONSTRAINT communications_source_check
    CHECK (source IN ('manual', 'mailbox', 'practice', 'phone', 'import'));
