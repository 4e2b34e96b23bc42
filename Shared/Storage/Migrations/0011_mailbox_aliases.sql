-- Other addresses a shared mailbox sends from (aliases): mail from any of them, like mail from the mailbox's
-- own address, is outbound whichever folder it is found in.
ALTER TABLE mailboxes ADD COLUMN aliases text[] NOT NULL DEFAULT '{}';
