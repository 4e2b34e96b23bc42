-- One entry per email across sources (issue 16): the Message-ID of an email, from the practice software's
-- practice.email.sent (message_id) or from the message a mailbox imported. The entry that has it is the message;
-- a copy from another source completes that entry instead of logging a second one (LogStore's SameMessage),
-- which is written in the entry's history as 'merge'.
ALTER TABLE communications ADD COLUMN message_id text;

-- Mailbox entries already logged: their source_ref is 'message-id:' and the Message-ID, unless a content
-- fingerprint follows ('#' and 16 hex digits: another message that reused the id, kept apart and never merged).
UPDATE communications SET message_id = substr(source_ref, length('message-id:') + 1)
WHERE source = 'mailbox' AND source_ref LIKE 'message-id:%' AND source_ref !~ '#[0-9a-f]{16}$';

CREATE INDEX communications_message_id ON communications (organisation_id, message_id) WHERE message_id IS NOT NULL;

ALTER TABLE audit_history DROP CONSTRAINT audit_history_action_check;
ALTER TABLE audit_history ADD CONSTRAINT audit_history_action_check
    CHECK (action IN ('create', 'update', 'delete', 'end_call', 'auto_close', 'relink', 'merge'));
