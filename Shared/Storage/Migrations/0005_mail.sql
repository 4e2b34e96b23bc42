-- Mailbox import (email-ingestor).

-- The organisations that have mailboxes. Mailboxes are tenant rows under row-level security, so the
-- poller (and `commlog mailbox list` without --org) learn which tenants to look at from this function,
-- which runs as the owner and reveals nothing but organisation ids; the mailboxes themselves are then
-- read inside each organisation's tenant transaction.
CREATE FUNCTION commlog_mailbox_organisations() RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT DISTINCT organisation_id FROM mailboxes ORDER BY 1 $$;
REVOKE ALL ON FUNCTION commlog_mailbox_organisations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION commlog_mailbox_organisations() TO commlog_app;

-- Per folder: when it was last checked and how many messages the server reported, for lag and status.
ALTER TABLE mailbox_folders ADD COLUMN checked_at timestamptz;
ALTER TABLE mailbox_folders ADD COLUMN exists_count bigint;
-- Folders other than INBOX and the \Sent folder, when a mailbox files its mail elsewhere (NULL: discover).
ALTER TABLE mailboxes ADD COLUMN inbound_folder text;
ALTER TABLE mailboxes ADD COLUMN outbound_folder text;
